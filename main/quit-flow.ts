// What happens when the user quits (menu, Ctrl+Q, tray): domains outlive the app, so by default
// they are left running; the user may instead shut them all down first.
//
//   idle ──before-quit──▶ asking ──Leave Running──────▶ stopping ──▶ done ──app.quit()──▶ (exits)
//     ▲                     │    ──Shut Down Domains──▶    │   (shutdownAll, then xend stopped)
//     └──────Cancel─────────┘                              └─ error: reported, then quits anyway
//
// No question when no domain runs, nor on SIGTERM/SIGINT (nobody to ask: domains keep running).
// While asking or stopping, further quit requests are held.

import type { MessageBoxOptions } from 'electron';

export type QuitChoice = 'leave' | 'shutdown' | 'cancel';
export type QuitState = 'idle' | 'asking' | 'stopping' | 'done';

const BUTTONS = ['Leave Running', 'Shut Down Domains', 'Cancel'] as const;

export function quitQuestion(running: number): MessageBoxOptions {
  return {
    type: 'question',
    title: 'Quit Dom0',
    message: 'Leave running domains running?',
    detail:
      `${running === 1 ? '1 domain is' : `${running} domains are`} running. They keep running without the app; ` +
      'open Dom0 again to manage them. Shut Down Domains presses each one\'s power button and waits up to a minute.',
    buttons: [...BUTTONS],
    defaultId: 0,
    cancelId: 2,
    noLink: true,
  };
}

export function quitChoice(response: number): QuitChoice {
  return response === 0 ? 'leave' : response === 1 ? 'shutdown' : 'cancel';
}

export interface QuitFlowDeps {
  /** Running domains as last seen; undefined when unknown (no engine answered). */
  runningCount(): number | undefined;
  ask(running: number): Promise<QuitChoice>;
  stopEngine(opts: { shutdownDomains: boolean }): Promise<void>;
  reportError(error: unknown): Promise<void> | void;
  /** Calls app.quit() again; this time onBeforeQuit lets it through. */
  quit(): void;
}

export class QuitFlow {
  #state: QuitState = 'idle';
  readonly #deps: QuitFlowDeps;

  constructor(deps: QuitFlowDeps) {
    this.#deps = deps;
  }

  get state(): QuitState {
    return this.#state;
  }

  /**
   * For app.on('before-quit'): true lets the quit proceed; false means call
   * event.preventDefault() (the flow runs and quits by itself when done).
   */
  onBeforeQuit(): boolean {
    if (this.#state === 'done') return true;
    if (this.#state === 'idle') void this.#run(true);
    return false;
  }

  /** Quits without asking, leaving domains running (a signal: no user at the window). */
  quitNow(): void {
    if (this.#state === 'idle') void this.#run(false);
  }

  async #run(mayAsk: boolean): Promise<void> {
    this.#state = 'asking';
    const running = this.#deps.runningCount() ?? 0;
    let choice: QuitChoice = 'leave';
    if (mayAsk && running > 0) {
      try {
        choice = await this.#deps.ask(running);
      } catch {
        choice = 'leave';
      }
    }
    if (choice === 'cancel') {
      this.#state = 'idle';
      return;
    }
    this.#state = 'stopping';
    try {
      await this.#deps.stopEngine({ shutdownDomains: choice === 'shutdown' });
    } catch (error) {
      try {
        await this.#deps.reportError(error);
      } catch {
        // nothing more to do: quit anyway
      }
    }
    this.#state = 'done';
    this.#deps.quit();
  }
}

// The texts of main's dialogs about the engine, as data (dialog.showMessageBox takes them as is).

import type { MessageBoxOptions } from 'electron';
import { EngineAlreadyRunningError, type EngineError } from './engine-service.js';

/** Asked when another xend serves this state dir: response 0 replaces it. */
export function alreadyRunningQuestion(pid: number): MessageBoxOptions {
  return {
    type: 'question',
    title: 'xend is already running',
    message: `Another xend (pid ${pid}) is already running for this state dir.`,
    detail:
      'Dom0 needs its own xend to connect the window to the engine. Restarting xend leaves every ' +
      'domain running: the new xend takes them over. Cancel leaves it alone (the window then has no engine).',
    buttons: ['Restart xend', 'Cancel'],
    defaultId: 0,
    cancelId: 1,
    noLink: true,
  };
}

export function isReplaceAnswer(response: number): boolean {
  return response === 0;
}

/** What to tell the user when the engine fails; undefined when they chose it (declined a restart). */
export function engineFailureMessage(error: EngineError): { title: string; content: string } | undefined {
  if (error instanceof EngineAlreadyRunningError) return undefined;
  return { title: 'Dom0 engine', content: error.message };
}

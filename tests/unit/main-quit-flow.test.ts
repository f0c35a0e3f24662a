// The quit flow's state machine with its Electron parts (dialog, app.quit) replaced by recorders.

import { describe, expect, it, vi } from 'vitest';
import { QuitFlow, quitChoice, quitQuestion, type QuitChoice, type QuitFlowDeps } from '../../main/quit-flow.js';

function flow(opts: { running?: number; answer?: QuitChoice; stopFails?: Error } = {}) {
  const events: string[] = [];
  let releaseAsk: (choice: QuitChoice) => void = () => undefined;
  const deps: QuitFlowDeps = {
    runningCount: () => opts.running,
    ask: (running) => {
      events.push(`ask ${running}`);
      return opts.answer ? Promise.resolve(opts.answer) : new Promise((resolve) => (releaseAsk = resolve));
    },
    stopEngine: async ({ shutdownDomains }) => {
      events.push(`stop shutdownDomains=${shutdownDomains}`);
      if (opts.stopFails) throw opts.stopFails;
    },
    reportError: (error) => void events.push(`error ${(error as Error).message}`),
    quit: () => events.push('quit'),
  };
  const f = new QuitFlow(deps);
  return { f, events, answer: (c: QuitChoice) => releaseAsk(c) };
}

describe('quitting', () => {
  it('asks when domains run; Leave Running stops xend only, then quits for real', async () => {
    const { f, events } = flow({ running: 2, answer: 'leave' });
    expect(f.onBeforeQuit()).toBe(false);
    await vi.waitFor(() => expect(events).toContain('quit'));
    expect(events).toEqual(['ask 2', 'stop shutdownDomains=false', 'quit']);
    expect(f.state).toBe('done');
    expect(f.onBeforeQuit()).toBe(true);
  });

  it('Shut Down Domains shuts them down before quitting', async () => {
    const { f, events } = flow({ running: 1, answer: 'shutdown' });
    f.onBeforeQuit();
    await vi.waitFor(() => expect(events).toEqual(['ask 1', 'stop shutdownDomains=true', 'quit']));
  });

  it('does not ask when no domain runs (or none is known)', async () => {
    for (const running of [0, undefined]) {
      const { f, events } = flow({ running });
      f.onBeforeQuit();
      await vi.waitFor(() => expect(events).toEqual(['stop shutdownDomains=false', 'quit']));
    }
  });

  it('quits without asking on a signal, leaving domains running', async () => {
    const { f, events } = flow({ running: 2, answer: 'shutdown' });
    f.quitNow();
    f.quitNow();
    await vi.waitFor(() => expect(events).toEqual(['stop shutdownDomains=false', 'quit']));
    expect(f.onBeforeQuit()).toBe(true);
  });

  it('Cancel goes back to running, and the next quit asks again', async () => {
    const { f, events, answer } = flow({ running: 3 });
    f.onBeforeQuit();
    await vi.waitFor(() => expect(events).toEqual(['ask 3']));
    // More quit requests while the question is open are held, not asked twice.
    expect(f.onBeforeQuit()).toBe(false);
    expect(f.state).toBe('asking');
    answer('cancel');
    await vi.waitFor(() => expect(f.state).toBe('idle'));
    f.onBeforeQuit();
    await vi.waitFor(() => expect(events).toEqual(['ask 3', 'ask 3']));
  });

  it('reports a failed shutdown and quits anyway', async () => {
    const { f, events } = flow({ running: 1, answer: 'shutdown', stopFails: new Error('web1 did not shut down within 60 s') });
    f.onBeforeQuit();
    await vi.waitFor(() => expect(events).toEqual(['ask 1', 'stop shutdownDomains=true', 'error web1 did not shut down within 60 s', 'quit']));
  });
});

describe('the quit question', () => {
  it('asks "Leave running domains running?" with Leave Running as the default', () => {
    const q = quitQuestion(2);
    expect(q.message).toBe('Leave running domains running?');
    expect(q.buttons).toEqual(['Leave Running', 'Shut Down Domains', 'Cancel']);
    expect(q.buttons![q.defaultId!]).toBe('Leave Running');
    expect(q.buttons![q.cancelId!]).toBe('Cancel');
    expect(q.detail).toMatch(/^2 domains are running/);
    expect(quitQuestion(1).detail).toMatch(/^1 domain is running/);
    expect([0, 1, 2].map(quitChoice)).toEqual(['leave', 'shutdown', 'cancel']);
  });
});

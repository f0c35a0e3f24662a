// Methods every server answers, whatever its table: event subscriptions. Declared like any other
// method so the client calls them through the same typed, validated path.

import type { MethodSpec } from './define.js';
import { subscribeParamsSchema, subscribeResultSchema } from './topics.js';

export const builtinMethods = {
  'events.subscribe': {
    params: subscribeParamsSchema,
    result: subscribeResultSchema,
    doc:
      "Adds topics (event names, 'prefix.*', or '*') to this connection's subscriptions; answers " +
      'with all of them. Always allowed once authenticated. Refused with InvalidParams for a topic ' +
      'that matches no declared event.',
    errors: ['InvalidParams'],
  },
  'events.unsubscribe': {
    params: subscribeParamsSchema,
    result: subscribeResultSchema,
    doc: "Removes topics from this connection's subscriptions; answers with those left. Always allowed.",
  },
} as const satisfies Record<string, MethodSpec>;

export type BuiltinMethods = typeof builtinMethods;

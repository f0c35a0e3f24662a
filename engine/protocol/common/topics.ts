// Event subscriptions. A topic is an event name ('domain.state'), a prefix ending in '.*'
// ('domain.*' matches 'domain.state' and 'domain.stats.sample') or '*' for every event. A
// connection receives only events matching a topic it subscribed to, so a CLI that never
// subscribes is never sent stats samples it would have to parse and drop.

import { z } from 'zod';

export const topicSchema = z
  .string()
  .regex(/^(\*|[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*(\.\*)?)$/, {
    message: "a topic is an event name, a prefix ending in '.*', or '*'",
  });

export const subscribeParamsSchema = z.object({ topics: z.array(topicSchema).max(64) });
export const subscribeResultSchema = z.object({ topics: z.array(z.string()) });

export function topicMatches(topic: string, event: string): boolean {
  if (topic === '*' || topic === event) return true;
  return topic.endsWith('.*') && event.startsWith(topic.slice(0, -1));
}

/** The topics that match no event of the table: a typo that would otherwise subscribe to silence. */
export function unknownTopics(topics: readonly string[], events: readonly string[]): string[] {
  return topics.filter((topic) => !events.some((event) => topicMatches(topic, event)));
}

// One engine call on a connection, its failure turned into EngineError (plain words, engine code).

import type { CallArgs, MethodName, ResultOf } from '../../../engine/protocol/browser/index.js';
import type { XendMethods } from '../../../engine/protocol/common/xend-api.js';
import { clientOf } from './connection.js';
import { toEngineError } from './errors.js';

export async function engineCall<K extends MethodName<XendMethods>>(
  conn: string,
  method: K,
  ...args: CallArgs<XendMethods, K>
): Promise<ResultOf<XendMethods, K>> {
  try {
    return await clientOf(conn).call(method, ...args);
  } catch (err) {
    throw toEngineError(err);
  }
}

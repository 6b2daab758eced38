// outbox/worker: delivery from Cloudflare Workers. A Worker may do I/O only for the request that
// started it, and only until its response is sent plus what `ctx.waitUntil` extends (~30 s); a
// timer set for later never fires. So every invocation gets its own tracker and delivers after
// the response through `waitUntil`, and what the collector did not acknowledge in time spills to
// storage (Workers KV) for a later invocation to send. See docs/workers.md.
import { createInvocationTracker, type InvocationTracker } from '../invocation-tracker.js';
import type { Tracker } from '../tracker.js';
import { workerDefaults, type InvocationTrackerOptions } from '../worker-options.js';

export { createInvocationTracker } from '../invocation-tracker.js';
export type { Delivery, InvocationTracker } from '../invocation-tracker.js';
export { drainSpill } from '../drain-spill.js';
export { workerDefaults } from '../worker-options.js';
export type { InvocationTrackerOptions } from '../worker-options.js';

/** The part of a Worker's `ExecutionContext` outbox uses. */
export interface WaitUntilContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** The part of a cron trigger's `ScheduledController` the wrapper passes on. */
export interface ScheduledControllerLike {
  readonly scheduledTime: number;
  readonly cron: string;
}

/** A `fetch` handler that receives the invocation's tracker as a last argument. */
export type TrackedFetch<Env = unknown, Ctx extends WaitUntilContext = WaitUntilContext> = (
  request: Request,
  env: Env,
  ctx: Ctx,
  tracker: Tracker,
) => Response | Promise<Response>;

/** Handlers that receive the invocation's tracker as a last argument; others pass through. */
export interface TrackedHandlers<Env = unknown, Ctx extends WaitUntilContext = WaitUntilContext> {
  fetch?: TrackedFetch<Env, Ctx>;
  scheduled?(controller: ScheduledControllerLike, env: Env, ctx: Ctx, tracker: Tracker): void | Promise<void>;
}

/** Options of {@link withTracker}: {@link InvocationTrackerOptions}, with `drain` per handler. */
export interface WithTrackerOptions extends Omit<InvocationTrackerOptions, 'drain'> {
  /**
   * Also drain spills after each successful `fetch`: a KV `list` per request. Busy Workers with a
   * cron trigger set it false (fewer KV operations, fewer duplicates); `scheduled` always drains.
   * @default true
   */
  drainOnFetch?: boolean;
}

/** What {@link withTracker} returns: a module Worker's handlers, `fetch` and `scheduled` wrapped. */
export type WrappedHandlers<Env, Ctx extends WaitUntilContext, H> = Omit<H, 'fetch' | 'scheduled'> & {
  scheduled(controller: ScheduledControllerLike, env: Env, ctx: Ctx): Promise<void>;
} & (H extends { fetch: unknown } ? { fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> } : unknown);

/**
 * Wraps a module Worker: each `fetch` and `scheduled` invocation gets its own tracker as a last
 * argument; once the handler returned (or threw), its events are delivered through
 * `ctx.waitUntil`, spilled to `spill` if the collector does not acknowledge them in time, and
 * earlier spills are drained. `scheduled` is always exported, so a cron trigger drains even with
 * no handler of yours. Other handlers (`queue`...) pass through unchanged.
 *
 * @param options the options, or a function of `env` returning them (bindings live in `env`)
 * @param handlers a `fetch` function, or an object of handlers
 * @example
 * export default withTracker((env: Env) => ({ endpoint: env.COLLECTOR_ENDPOINT, spill: createWorkersKvStorage(env.OUTBOX_KV) }), {
 *   async fetch(request, env, ctx, tracker) {
 *     tracker.track('page_view', { path: new URL(request.url).pathname });
 *     return new Response('hello'); // the events go out after the response
 *   },
 * });
 */
export function withTracker<Env, Ctx extends WaitUntilContext, H extends TrackedHandlers<Env, Ctx>>(
  options: WithTrackerOptions | ((env: Env) => WithTrackerOptions),
  handlers: H,
): WrappedHandlers<Env, Ctx, H>;
/** The shorthand for a Worker with only a `fetch` handler: `withTracker(options, (request, env, ctx, tracker) => response)`. */
export function withTracker<Env, Ctx extends WaitUntilContext>(
  options: WithTrackerOptions | ((env: Env) => WithTrackerOptions),
  fetch: TrackedFetch<Env, Ctx>,
): WrappedHandlers<Env, Ctx, { fetch: TrackedFetch<Env, Ctx> }>;
export function withTracker<Env, Ctx extends WaitUntilContext>(
  options: WithTrackerOptions | ((env: Env) => WithTrackerOptions),
  handlersOrFetch: TrackedHandlers<Env, Ctx> | TrackedFetch<Env, Ctx>,
): WrappedHandlers<Env, Ctx, TrackedHandlers<Env, Ctx>> {
  const handlers: TrackedHandlers<Env, Ctx> = typeof handlersOrFetch === 'function' ? { fetch: handlersOrFetch } : handlersOrFetch;
  const start = (env: Env, scheduled: boolean): InvocationTracker => {
    const { drainOnFetch = workerDefaults.drain, ...rest } = typeof options === 'function' ? options(env) : options;
    return createInvocationTracker({ ...rest, drain: scheduled || drainOnFetch });
  };
  const { fetch, scheduled } = handlers;
  const wrapped = {
    ...handlers,
    async scheduled(controller: ScheduledControllerLike, env: Env, ctx: Ctx): Promise<void> {
      const invocation = start(env, true);
      try {
        await scheduled?.call(handlers, controller, env, ctx, invocation.tracker);
      } finally {
        ctx.waitUntil(invocation.finish());
      }
    },
  };
  if (!fetch) return wrapped as WrappedHandlers<Env, Ctx, TrackedHandlers<Env, Ctx>>;
  return {
    ...wrapped,
    async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
      const invocation = start(env, false);
      try {
        return await fetch.call(handlers, request, env, ctx, invocation.tracker);
      } finally {
        // Registered once the handler is done, so the response is not held up. Called on ctx
        // itself: a detached `waitUntil` throws "Illegal invocation" in workerd.
        ctx.waitUntil(invocation.finish());
      }
    },
  } as WrappedHandlers<Env, Ctx, TrackedHandlers<Env, Ctx>>;
}

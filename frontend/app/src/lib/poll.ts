// Asking again until an answer settles: `ask` every `everyMs` until `done` says so, the
// page is left (`stop()`), or `maxTries` runs out. Errors stop the polling and are returned.
export interface Poll {
  stop: () => void;
}

export function poll<T>(ask: () => Promise<T>, done: (value: T) => boolean, onValue: (value: T) => void, options: { everyMs?: number; maxTries?: number; onError?: (error: unknown) => void } = {}): Poll {
  const every = options.everyMs ?? 1000;
  let tries = options.maxTries ?? 120;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const round = async () => {
    if (stopped) return;
    try {
      const value = await ask();
      if (stopped) return;
      onValue(value);
      if (done(value) || --tries <= 0) return;
    } catch (error) {
      options.onError?.(error);
      return;
    }
    timer = setTimeout(round, every);
  };
  timer = setTimeout(round, every);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

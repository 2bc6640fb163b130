// A background job that must not overlap itself: `start()` runs it unless a run is in flight (then
// that run covers the request), failures go to `onError` instead of becoming unhandled rejections,
// and `idle()` waits for the run in flight, if any (shutdown).
export interface SingleFlight {
  start(): void;
  idle(): Promise<void>;
}

export function singleFlight(job: () => Promise<unknown>, onError: (err: unknown) => void): SingleFlight {
  let running: Promise<void> | undefined;
  return {
    start() {
      running ??= job()
        .then(() => undefined, onError)
        .finally(() => {
          running = undefined;
        });
    },
    async idle() {
      await running;
    },
  };
}

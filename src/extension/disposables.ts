// One place that owns listeners, panels, workers and channels and releases them together.

/** Anything with a `dispose` method: VS Code's `Disposable`, an output channel, a worker wrapper. */
export interface DisposableLike {
  dispose(): unknown;
}

/**
 * Collects disposables and disposes them in reverse order of addition, so a resource is released before the
 * resources it was built on. Items added after `dispose()` are disposed at once.
 */
export class DisposableStore implements DisposableLike {
  private readonly items: DisposableLike[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Adds `item` and returns it, so construction and registration fit in one expression. */
  add<T extends DisposableLike>(item: T): T {
    if (this.disposed) {
      item.dispose();
      return item;
    }
    this.items.push(item);
    return item;
  }

  /**
   * Disposes every item, even when some throw. Throws the single error, or an `AggregateError` of all of them,
   * after the last item is disposed.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;

    const errors: unknown[] = [];
    for (const item of this.items.splice(0).reverse()) {
      try {
        item.dispose();
      } catch (error) {
        errors.push(error);
      }
    }

    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} disposables failed to dispose`);
  }
}

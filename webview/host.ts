// Typed access to the VS Code webview API: messages to the extension host and persisted UI state.
import type { FromWebviewMessage, ToWebviewMessage, WebviewState } from '../src/protocol/webviewMessages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The extension host as the views see it. */
export interface Host {
  post(message: FromWebviewMessage): void;
  /** The state saved before the webview was last reloaded, if any. */
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
}

/** Wraps `acquireVsCodeApi()`, which VS Code allows to be called only once per webview. */
export function connectToHost(): Host {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    getState: () => (api.getState() ?? undefined) as WebviewState | undefined,
    setState: (state) => api.setState(state),
  };
}

const toWebviewTypes = new Set<ToWebviewMessage['type']>([
  'inspectorData', 'tensorStatistics', 'error', 'alignmentReport', 'curves', 'jobProgress', 'needsEvaluationInputs',
]);

/** Narrows a `message` event's data to a host message; anything else (other frames, extensions' probes) is ignored. */
export function asHostMessage(data: unknown): ToWebviewMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const type = (data as { type?: unknown }).type;
  return typeof type === 'string' && toWebviewTypes.has(type as ToWebviewMessage['type']) ? (data as ToWebviewMessage) : undefined;
}

// Entry point of the webview bundle: starts the view named by `<body data-view>` and routes host messages to it.
import type { ToWebviewMessage, WebviewView } from '../src/protocol/webviewMessages';
import { AlignmentView } from './alignment/alignmentView';
import { registerComponents } from './components/toolkit';
import { asHostMessage, connectToHost } from './host';
import { InspectorView } from './inspector/inspectorView';

interface View {
  handle(message: ToWebviewMessage): void;
}

async function start(): Promise<void> {
  await registerComponents();
  const host = connectToHost();
  const viewName: WebviewView = document.body.dataset.view === 'alignment' ? 'alignment' : 'inspector';
  const root = document.getElementById('root') ?? document.body;
  const view: View = viewName === 'alignment' ? new AlignmentView(root, host) : new InspectorView(root, host);

  window.addEventListener('message', (event: MessageEvent) => {
    const message = asHostMessage(event.data);
    if (message) view.handle(message);
  });
  host.post({ type: 'ready', view: viewName });
}

start().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  document.body.textContent = `The view failed to start: ${message}`;
});

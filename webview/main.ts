// Entry point of the webview bundle: starts the view named by `<body data-view>` and routes host messages to it.
//
// The page the extension host writes needs, for either view:
//   <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${cspSource} data:;
//     font-src ${cspSource}; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
//   <meta property="csp-nonce" content="${nonce}">   (the toolkit gives its one <style> element this nonce)
//   <link rel="stylesheet" href="${media/webview.css}">
//   <body data-view="inspector|alignment"><div id="root"></div>
//   <script nonce="${nonce}" src="${dist/webview.js}"></script>
// The view posts `ready` once it listens; the host then sends its data.
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

// The only module that imports @vscode/webview-ui-toolkit (1.4, archived upstream in January 2025).
// Replacing the toolkit, e.g. with @vscode-elements/elements, means changing the files in this folder only.

let registration: Promise<void> | undefined;

/**
 * Registers the toolkit elements the wrappers use; later calls return the same promise. Views must be built after
 * it resolves, because a property set on an element before its definition shadows the element's own accessor.
 */
export function registerComponents(): Promise<void> {
  // A dynamic import, because the toolkit is an ECMAScript module and this project's TypeScript compiles webview
  // files as CommonJS for type checking; esbuild bundles it into the same IIFE all the same.
  registration ??= import('@vscode/webview-ui-toolkit').then((toolkit) => {
    toolkit.provideVSCodeDesignSystem().register(
      toolkit.vsCodeButton(),
      toolkit.vsCodeDataGrid(),
      toolkit.vsCodeDataGridCell(),
      toolkit.vsCodeDataGridRow(),
      toolkit.vsCodePanels(),
      toolkit.vsCodePanelTab(),
      toolkit.vsCodePanelView(),
      toolkit.vsCodeProgressRing(),
      toolkit.vsCodeTextField(),
    );
  });
  return registration;
}

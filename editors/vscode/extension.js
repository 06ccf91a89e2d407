// Starts `inceptdsl lsp` (stdio) for .incept files: diagnostics, hover, go to definition,
// completion and formatting come from the server.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("inceptdsl").get("command");
  client = new LanguageClient(
    "inceptdsl",
    "inceptdsl",
    { command, args },
    { documentSelector: [{ scheme: "file", language: "incept" }] }
  );
  context.subscriptions.push(client);
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

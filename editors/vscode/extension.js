// Starts `inceptdsl lsp` (stdio) for .incept files: diagnostics, hover, go to definition,
// completion and formatting come from the server. The command is the `inceptdsl.command`
// setting; left at its default, a workspace virtualenv's inceptdsl (.venv/bin/inceptdsl, or
// .venv\Scripts\inceptdsl.exe) is preferred to one on PATH, which an editor started from a
// desktop launcher often lacks.
const fs = require("fs");
const path = require("path");
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

const DEFAULT = ["inceptdsl", "lsp"];
let client;

function serverCommand() {
  const configured = vscode.workspace.getConfiguration("inceptdsl").get("command") || DEFAULT;
  if (JSON.stringify(configured) !== JSON.stringify(DEFAULT)) return configured;
  for (const folder of vscode.workspace.workspaceFolders || []) {
    for (const rel of [".venv/bin/inceptdsl", ".venv/Scripts/inceptdsl.exe"]) {
      const exe = path.join(folder.uri.fsPath, rel);
      if (fs.existsSync(exe)) return [exe, "lsp"];
    }
  }
  return DEFAULT;
}

async function activate(context) {
  const [command, ...args] = serverCommand();
  client = new LanguageClient(
    "inceptdsl",
    "inceptdsl",
    { command, args },
    { documentSelector: [{ scheme: "file", language: "incept" }] }
  );
  context.subscriptions.push(client);
  try {
    await client.start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `inceptdsl: could not start the language server \`${[command, ...args].join(" ")}\` ` +
        `(${err.message}). Set "inceptdsl.command" to the full path, e.g. ` +
        `["/path/to/.venv/bin/inceptdsl", "lsp"] (pip install 'inceptdsl[lsp]').`
    );
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

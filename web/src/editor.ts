/**
 * The validator's editor: CodeMirror 6 with line numbers, JSON highlighting and lint marks for
 * the server's issues. Loaded on demand (its own chunk) by /validate.
 */
import { basicSetup, EditorView } from 'codemirror';
import { json } from '@codemirror/lang-json';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorSelection, EditorState } from '@codemirror/state';

export interface Mark {
  line: number;
  col: number;
  severity: 'error' | 'warning' | 'info';
  message: string;
}

export interface Editor {
  text(): string;
  setText(text: string): void;
  mark(marks: Mark[]): void;
  goTo(line: number, col: number): void;
  view: EditorView;
}

/** The end of the token at `from`: a JSON string (a property name) or a bare word, within the line. */
function tokenEnd(text: string, from: number, lineEnd: number): number {
  if (text[from] === '"') {
    let i = from + 1;
    while (i < lineEnd && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    return Math.min(i + 1, lineEnd);
  }
  let i = from;
  while (i < lineEnd && !/[\s,:\]}]/.test(text[i])) i++;
  return Math.max(i, Math.min(from + 1, lineEnd));
}

export function createEditor(parent: HTMLElement, doc: string, onChange: () => void, label: string): Editor {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        basicSetup,
        // CodeMirror writes its theme into <style> elements: the page's CSP allows them by this response's nonce (src/http/console.ts).
        EditorView.cspNonce.of(document.querySelector<HTMLMetaElement>('meta[name="pb-style-nonce"]')?.content ?? ''),
        json(),
        lintGutter(),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange();
        }),
      ],
    }),
  });
  const position = (line: number, col: number): number => {
    const d = view.state.doc;
    const l = d.line(Math.min(Math.max(line, 1), d.lines));
    return Math.min(l.from + Math.max(col, 1) - 1, l.to);
  };
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    mark: (marks) => {
      const d = view.state.doc;
      const all = d.toString();
      const diagnostics: Diagnostic[] = marks.map((m) => {
        const from = position(m.line, m.col);
        const to = tokenEnd(all, from, d.lineAt(from).to);
        return { from, to, severity: m.severity, message: m.message };
      });
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    goTo: (line, col) => {
      const at = position(line, col);
      view.dispatch({ selection: EditorSelection.cursor(at), effects: EditorView.scrollIntoView(at, { y: 'center' }) });
      view.focus();
    },
  };
}

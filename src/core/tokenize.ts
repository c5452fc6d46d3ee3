/**
 * Splits command text into tokens the way a shell would, without ever interpreting it:
 * whitespace separates, "double" or 'single' quotes group (chat clients' “smart” quotes too),
 * a backslash escapes the next character outside single quotes.
 */
export type TokenizeResult = { ok: true; tokens: string[] } | { ok: false; error: string };

const OPEN_CLOSE: Record<string, string> = { '"': '"', "'": "'", "“": "”", "‘": "’", "”": "”", "’": "’" };

export function tokenize(text: string): TokenizeResult {
  const tokens: string[] = [];
  let cur = "";
  let inToken = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote !== null) {
      if (ch === quote) {
        quote = null;
      } else if (ch === "\\" && quote === '"' && i + 1 < text.length) {
        cur += text[++i];
      } else {
        cur += ch;
      }
      continue;
    }
    if (/\s/.test(ch)) {
      if (inToken) tokens.push(cur);
      cur = "";
      inToken = false;
    } else if (ch in OPEN_CLOSE) {
      quote = OPEN_CLOSE[ch] as string;
      inToken = true;
    } else if (ch === "\\" && i + 1 < text.length) {
      cur += text[++i];
      inToken = true;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (quote !== null) return { ok: false, error: `unbalanced quote: a ${quote} is never closed` };
  if (inToken) tokens.push(cur);
  return { ok: true, tokens };
}

// The subset of Markdown that results/*.md use: headings, paragraphs, lists, pipe tables, fenced
// code, images, links, bold, italics and inline code. Every character of the source is
// HTML-escaped first, so a results file cannot inject markup; HTML comments are dropped. Small on
// purpose: a full CommonMark library would be the page's largest dependency for these few forms.

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** Only relative links and http(s) ones; anything else (javascript:, data:) becomes plain text. */
function safeUrl(url: string): string | undefined {
  if (/^https?:\/\//i.test(url)) return url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) return undefined;
  return url;
}

/** Inline forms on escaped text; `image` maps a relative picture path to the URL it is served at. */
function inline(raw: string, image: (src: string) => string): string {
  const codes: string[] = [];
  let s = escapeHtml(raw).replace(/`([^`]+)`/g, (_, c: string) => {
    codes.push(`<code>${c}</code>`);
    return `\uE000${codes.length - 1}\uE001`;
  });
  s = s.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (m, alt: string, src: string) => {
    const url = safeUrl(src);
    if (url === undefined) return m;
    return `<img alt="${alt}" src="${/^https?:/i.test(url) ? url : image(url)}">`;
  });
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, text: string, href: string) => {
    const url = safeUrl(href);
    return url === undefined ? m : `<a href="${url}">${text}</a>`;
  });
  s = s.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/(^|[^*\w])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
  return s.replace(/\uE000(\d+)\uE001/g, (_, i: string) => codes[Number(i)]);
}

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

/** Renders Markdown to HTML. */
export function renderMarkdown(md: string, image: (src: string) => string = (s) => s): string {
  const lines = md.replace(/<!--[\s\S]*?-->/g, '').split(/\r?\n/);
  const out: string[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '), image)}</p>`);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (line.startsWith('```')) {
      flush();
      const code: string[] = [];
      while (++i < lines.length && !lines[i].startsWith('```')) code.push(lines[i]);
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
    } else if (heading) {
      flush();
      out.push(`<h${heading[1].length}>${inline(heading[2], image)}</h${heading[1].length}>`);
    } else if (/^\s*\|/.test(line) && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1] ?? '')) {
      flush();
      const head = cells(line);
      const rows: string[] = [];
      i++;
      while (i + 1 < lines.length && /^\s*\|/.test(lines[i + 1])) {
        rows.push(
          `<tr>${cells(lines[++i])
            .map((c) => `<td>${inline(c, image)}</td>`)
            .join('')}</tr>`,
        );
      }
      const th = head.map((c) => `<th>${inline(c, image)}</th>`).join('');
      out.push(`<table><thead><tr>${th}</tr></thead><tbody>${rows.join('')}</tbody></table>`);
    } else if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
      flush();
      const ordered = /^\s*\d+\./.test(line);
      const items: string[] = [];
      i--;
      while (i + 1 < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i + 1])) {
        let item = lines[++i].replace(/^\s*([-*]|\d+\.)\s+/, '');
        // continuation lines indented under the item
        while (i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1]) && !/^\s*([-*]|\d+\.)\s+/.test(lines[i + 1])) {
          item += ` ${lines[++i].trim()}`;
        }
        items.push(`<li>${inline(item, image)}</li>`);
      }
      const tag = ordered ? 'ol' : 'ul';
      out.push(`<${tag}>${items.join('')}</${tag}>`);
    } else if (line.trim() === '') {
      flush();
    } else {
      para.push(line.trim());
    }
  }
  flush();
  return out.join('\n');
}

// MathJax draws math as an <svg role="img"> with no text for a screen reader: label each one
// with its TeX source (KaTeX output carries MathML and needs nothing).
export function mathLabels(md) {
  for (const rule of ['marp_math_inline', 'marp_math_block']) {
    const render = md.renderer.rules[rule]
    if (!render) continue
    md.renderer.rules[rule] = (tokens, index, ...rest) => {
      const html = render(tokens, index, ...rest)
      const label = md.utils.escapeHtml(tokens[index].content.trim().replace(/\s+/g, ' '))
      return html.replace(/<svg(?=[^>]*role="img")(?![^>]*aria-label)/, `<svg aria-label="${label}"`)
    }
  }
}

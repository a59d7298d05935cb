// Turns a deck rendered with Marp's bare template into a handout: the slides' own SVGs, a few
// to a page, each beside its speaker notes, or beside ruled lines where it has none.
// Called by Playwright with {notes: string[][], perPage: number, rules: number}.
({ notes, perPage, rules }) => {
  const slides = [...document.querySelectorAll('body > svg[data-marpit-svg]')]
  const pages = []
  slides.forEach((svg, index) => {
    if (index % perPage === 0) {
      const page = document.createElement('div')
      page.className = `handout-page per-page-${perPage}`
      pages.push(page)
    }
    const row = document.createElement('div')
    row.className = 'handout-slide'
    const frame = document.createElement('div')
    frame.className = 'handout-frame'
    frame.appendChild(svg)
    const side = document.createElement('div')
    side.className = 'handout-notes'
    const label = document.createElement('p')
    label.className = 'handout-label'
    label.textContent = `Slide ${index + 1}`
    side.appendChild(label)
    const said = (notes[index] || []).filter((note) => note.trim())
    for (const note of said) {
      for (const paragraph of note.split(/\n\s*\n/)) {
        const p = document.createElement('p')
        p.textContent = paragraph.replace(/\s+/g, ' ').trim()
        side.appendChild(p)
      }
    }
    if (!said.length) {
      const lines = document.createElement('div')
      lines.className = 'handout-lines'
      for (let i = 0; i < rules; i++) lines.appendChild(document.createElement('div'))
      side.appendChild(lines)
    }
    row.append(frame, side)
    pages[pages.length - 1].appendChild(row)
  })
  document.body.replaceChildren(...pages)
  document.body.classList.add('handout')
  return slides.length
}

// Runs axe-core (already on the page) and returns each violation's nodes with the slide that
// holds them (0: outside every slide). `slides`: audit only the slides of a bare-template
// render; otherwise audit the page around them (the template, its controls, the index).
async ({ slides }) => {
  const svgs = [...document.querySelectorAll('svg[data-marpit-svg]')]
  const context = slides ? document.querySelectorAll('body > svg[data-marpit-svg]') : { exclude: [['svg[data-marpit-svg]']] }
  const result = await axe.run(context, { resultTypes: ['violations'] })
  const found = []
  for (const violation of result.violations) {
    for (const node of violation.nodes) {
      let element = null
      try { element = document.querySelector(node.target[0]) } catch (error) { element = null }
      const slide = element ? svgs.indexOf(element.closest('svg[data-marpit-svg]')) + 1 : 0
      found.push({ rule: violation.id, impact: violation.impact || 'minor', help: violation.help, slide, html: node.html })
    }
  }
  return found
}

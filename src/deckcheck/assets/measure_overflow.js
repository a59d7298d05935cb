// For each slide (one <svg data-marpit-svg> each): how many CSS pixels its content reaches
// beyond the slide's edges, and how far Marp shrank its most shrunken code block to fit.
// The page is the deck rendered with Marp's bare template, where every slide is laid out.
async () => {

  const inner = (section, element) => {
    const found = element.parentElement && element.parentElement.closest('pre, marp-pre, svg, mjx-container');
    return found && section.contains(found);
  };
  const contentOf = (svg) => [...svg.querySelectorAll(':scope > foreignObject > section')].find((s) => {
    const layer = s.getAttribute('data-marpit-advanced-background');
    return !layer || layer === 'content';
  });
  const fitted = (pre) => {
    const fitter = pre.shadowRoot && pre.shadowRoot.querySelector('marp-auto-scaling');
    return fitter && fitter.shadowRoot && fitter.shadowRoot.querySelector('svg');
  };
  const measureSlide = (svg) => {
    const section = contentOf(svg);
    if (!section) return { reach: 0, shrink: 1 };
    const box = section.getBoundingClientRect();
    const scale = box.width / section.offsetWidth || 1;
    let reach = 0;
    for (const element of section.querySelectorAll('*')) {
      if (element.closest('header, footer') || inner(section, element)) continue;
      const rect = element.getBoundingClientRect();
      if (!rect.width && !rect.height) continue;
      reach = Math.max(reach, rect.bottom - box.bottom, rect.right - box.right, box.top - rect.top, box.left - rect.left);
    }
    let shrink = 1;
    for (const pre of section.querySelectorAll('marp-pre')) {
      const svgOfPre = fitted(pre);
      const natural = svgOfPre && svgOfPre.viewBox.baseVal;
      if (natural && natural.height > 0) {
        shrink = Math.min(shrink, svgOfPre.getBoundingClientRect().height / scale / natural.height);
      }
    }
    return { reach: Math.round(reach / scale), shrink: Math.round(shrink * 100) / 100 };
  };
  const measure = () => [...document.querySelectorAll('svg[data-marpit-svg]')].map(measureSlide);

  // Marp fits code blocks asynchronously: measure until three readings 50 ms apart agree.
  let last = '';
  let same = 0;
  for (let attempt = 0; attempt < 60 && same < 2; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = JSON.stringify(measure());
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return JSON.parse(last);
}

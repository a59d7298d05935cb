// `deckcheck present`: every executed block of the deck becomes an editor with run, stop and
// reset. Bundled with CodeMirror into present.js by `npm run build-present` (esbuild).
// Runs in the deck's window and in Marp's presenter view (the same page with ?view=presenter);
// the windows of one deck show each other's edits and results (BroadcastChannel). The next-slide
// preview inside the presenter view (?view=next) stays as published.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";

const PYTHON = /(^|\s)language-(python|python3|py)(\s|$)/;

function config() {
  const element = document.getElementById("deckcheck-present-config");
  return element ? JSON.parse(element.textContent) : null;
}

function codeElements(slide) {
  // Marp's bespoke page turns <pre is="marp-pre"> into <marp-pre>
  return [...slide.querySelectorAll("pre code, marp-pre code")].filter((code) => PYTHON.test(code.className));
}

// The output and figures that the build put under a show-output block.
function shownOutputs(pre) {
  const found = [];
  for (let next = pre.nextElementSibling; next; next = next.nextElementSibling) {
    const output = next.matches("pre, marp-pre") && next.querySelector("code.language-output");
    if (!output && !next.matches("p.figures")) break;
    found.push(next);
  }
  return found;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

class LiveBlock {
  constructor(present, block, pre) {
    this.present = present;
    this.block = block;
    this.pre = pre;
    this.originals = shownOutputs(pre);
    this.shown = [];
    this.remote = false;
    this.wrapper = element("div", "deckcheck-live");
    this.wrapper.dataset.block = String(block.index);
    this.wrapper.addEventListener("keydown", (event) => event.stopPropagation()); // the slides' keys stay outside
    this.bar = element("div", "deckcheck-live-bar");
    this.runButton = this.button("Run", "run (Shift+Enter)", () => this.run());
    this.stopButton = this.button("Stop", "interrupt the run", () => this.stop());
    this.resetButton = this.button("Reset", "the slide's own code and output", () => this.reset());
    this.status = element("span", "deckcheck-live-status");
    this.stopButton.hidden = true;
    this.bar.append(this.runButton, this.stopButton, this.resetButton, this.status);
    const style = getComputedStyle(pre.querySelector("code") || pre);
    this.view = new EditorView({
      parent: this.wrapper,
      state: this.state(block.code),
    });
    this.view.dom.style.setProperty("--deckcheck-code-font", style.fontFamily);
    this.view.dom.style.setProperty("--deckcheck-code-background", getComputedStyle(pre).backgroundColor);
    this.wrapper.append(this.bar);
    pre.replaceWith(this.wrapper);
  }

  state(code) {
    return EditorState.create({
      doc: code,
      extensions: [
        Prec.highest(keymap.of([{ key: "Shift-Enter", run: () => (this.run(), true) }])),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        python(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        indentOnInput(),
        bracketMatching(),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !this.remote) this.present.send({ kind: "edit", index: this.block.index, code: this.code() });
        }),
      ],
    });
  }

  button(label, title, action) {
    const node = element("button", `deckcheck-live-${label.toLowerCase()}`, label);
    node.type = "button";
    node.title = title;
    node.addEventListener("click", (event) => {
      event.stopPropagation();
      action();
    });
    return node;
  }

  code() {
    return this.view.state.doc.toString();
  }

  setCode(code) {
    if (code === this.code()) return;
    this.remote = true;
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: code } });
    this.remote = false;
  }

  async run() {
    if (this.wrapper.classList.contains("running")) return;
    const started = performance.now();
    this.busy(true);
    this.status.textContent = "running…";
    let answer;
    try {
      answer = await this.present.post("/_deckcheck/run", { stem: this.present.stem, index: this.block.index, code: this.code() });
    } catch (error) {
      answer = { status: "refused", message: `deckcheck: no answer from present (${error})` };
    }
    this.show(answer);
    const elapsed = (performance.now() - started) / 1000;
    this.wrapper.dataset.elapsed = elapsed.toFixed(3);
    this.status.textContent = `${answer.status} in ${elapsed.toFixed(2)} s`;
    this.busy(false);
    this.present.send({ kind: "result", index: this.block.index, code: this.code(), answer });
  }

  async stop() {
    this.status.textContent = "stopping…";
    await this.present.post("/_deckcheck/stop", { stem: this.present.stem, index: this.block.index }).catch(() => null);
  }

  busy(running) {
    this.wrapper.classList.toggle("running", running);
    this.runButton.disabled = running;
    this.stopButton.hidden = !running;
  }

  clear() {
    for (const node of this.shown) node.remove();
    this.shown = [];
  }

  show(answer) {
    this.clear();
    for (const node of this.originals) node.style.display = "none";
    const nodes = [];
    if (answer.output) {
      const pre = element("pre", "deckcheck-live-output");
      pre.append(element("code", "language-output", answer.output.replace(/\n$/, "")));
      nodes.push(pre);
    }
    if (answer.figures && answer.figures.length) {
      const figures = element("p", "figures deckcheck-live-figures");
      for (const figure of answer.figures) {
        const image = element("img", "figure");
        image.src = `data:image/png;base64,${figure.png}`;
        image.alt = figure.alt;
        figures.append(image);
      }
      nodes.push(figures);
    }
    const problem = answer.failure || (answer.status !== "passed" ? answer.message : "");
    if (problem) nodes.push(element("pre", "deckcheck-live-error", problem));
    this.wrapper.after(...nodes);
    this.shown = nodes;
  }

  reset() {
    this.clear();
    for (const node of this.originals) node.style.display = "";
    this.setCode(this.block.code);
    this.status.textContent = "";
    this.present.send({ kind: "reset", index: this.block.index });
  }

  receive(message) {
    this.remote = true;
    try {
      if (message.kind === "edit") this.setCode(message.code);
      if (message.kind === "result") {
        this.setCode(message.code);
        this.show(message.answer);
      }
      if (message.kind === "reset") {
        this.clear();
        for (const node of this.originals) node.style.display = "";
        this.setCode(this.block.code);
      }
    } finally {
      this.remote = false;
    }
  }
}

class Present {
  constructor(settings) {
    this.stem = settings.stem;
    this.token = settings.token;
    this.blocks = new Map();
    this.channel = "BroadcastChannel" in window ? new BroadcastChannel(`deckcheck-present:${this.stem}`) : null;
    if (this.channel) this.channel.onmessage = (event) => this.blocks.get(event.data.index)?.receive(event.data);
    const bySlide = new Map();
    for (const block of settings.blocks) {
      if (!bySlide.has(block.slide)) bySlide.set(block.slide, []);
      bySlide.get(block.slide).push(block);
    }
    const slides = document.querySelectorAll("svg[data-marpit-svg]");
    slides.forEach((slide, number) => {
      const blocks = bySlide.get(number + 1) || [];
      const codes = codeElements(slide);
      blocks.forEach((block, position) => {
        const code = codes[position];
        // a block whose code the page does not show as written gets no editor
        if (block.runnable && code && code.textContent.replace(/\n$/, "") === block.code.replace(/\n$/, "")) {
          this.blocks.set(block.index, new LiveBlock(this, block, code.closest("pre, marp-pre")));
        }
      });
    });
    document.documentElement.dataset.deckcheckPresent = String(this.blocks.size);
  }

  send(message) {
    if (this.channel) this.channel.postMessage(message);
  }

  async post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Deckcheck-Token": this.token },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    return response.json();
  }
}

const settings = config();
if (settings && new URLSearchParams(location.search).get("view") !== "next") {
  window.deckcheckPresent = new Present(settings);
}

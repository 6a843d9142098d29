// Typesets TeX at build time with MathJax 3 (npm `mathjax`, pinned in package-lock.json),
// for _ext/d2l_site/mathjax.py: the pages then carry finished CHTML and load no MathJax.
//
// Protocol, one JSON object per line on stdin and stdout:
//   {"tex": "...", "display": true}  ->  {"html": "<mjx-container ...>"}  or  {"error": "..."}
//   {"stylesheet": true}             ->  {"css": "..."}  (the CSS of every formula so far)
// Each formula carries hidden MathML (MathJax's assistive-mml) for screen readers.
"use strict";
const path = require("path");
const readline = require("readline");

const [fontURL] = process.argv.slice(2);
const mathjax = require(path.resolve("node_modules/mathjax/es5/node-main.js"));

const ready = mathjax.init({
  loader: { load: ["input/tex", "output/chtml", "adaptors/liteDOM", "a11y/assistive-mml"] },
  // Without `noundefined`, an unknown macro is an error (the build fails) instead of red text.
  tex: { packages: { "[-]": ["noundefined"] } },
  chtml: { fontURL: fontURL || "fonts" },
  startup: { typeset: false },
});

function reply(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}

// Lines are answered in order: each waits for MathJax and for the line before it.
let queue = ready;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  queue = queue.then(async (MathJax) => {
    const request = JSON.parse(line);
    const adaptor = MathJax.startup.adaptor;
    try {
      if (request.stylesheet) {
        reply({ css: adaptor.textContent(MathJax.chtmlStylesheet()) });
      } else {
        const node = MathJax.tex2chtml(request.tex, { display: Boolean(request.display) });
        const errors = adaptor.tags(node, "mjx-merror");
        if (errors.length) {
          reply({ error: adaptor.getAttribute(errors[0], "data-mjx-error") || "TeX error" });
        } else {
          reply({ html: adaptor.outerHTML(node) });
        }
      }
    } catch (error) {
      reply({ error: String((error && error.message) || error) });
    }
    return MathJax;
  });
});

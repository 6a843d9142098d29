// Loaded before require.js and the widgets' html-manager, only on pages that embed widget
// state (see nb_ipywidgets_js in _config.yml). Every URL is derived from this file's own
// URL (…/_static/widgets-setup.js), so it works at any page depth and under any site prefix,
// and nothing is fetched from outside the site.
(function () {
  "use strict";
  var script = document.currentScript;
  var npm = new URL("npm/", script.src).href; // …/_static/npm/, filled by `make assets`

  // 1. require.js reads a global `require` object as its configuration. The html-manager
  //    bundle locates its Font Awesome files from its AMD module's URL, which by default is
  //    "<page folder>/@jupyter-widgets/html-manager/dist/" (a 404). Map it to the vendored copy.
  window.require = { paths: { "@jupyter-widgets/html-manager/dist": npm + "html-manager" } };

  // 2. The html-manager bundles @jupyter-widgets/base, controls and output; it would fetch
  //    any other widget module from "<data-jupyter-widgets-cdn><package>@<version>/dist/".
  //    Point that at a folder of this site (absolute URL, so any page depth works): a module
  //    nobody vendored there fails as a local 404 instead of silently using a public CDN.
  script.setAttribute("data-jupyter-widgets-cdn", npm);

  // 3. ipywidgets typesets widget labels with MathJax 2's MathJax.Hub.Queue (see
  //    jupyter-widgets/ipywidgets#3829), but the book uses MathJax 3, where that throws.
  //    Bridge that one call to MathJax 3's typesetPromise. MathJax is deferred, so it exists
  //    by DOMContentLoaded; the widgets render later, on load.
  document.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (!mathjax || !mathjax.startup || mathjax.Hub) {
      return;
    }
    mathjax.Hub = {
      Queue: function () {
        var elements = [];
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
            elements.push(job[2]);
          }
        }
        if (elements.length) {
          mathjax.startup.promise = mathjax.startup.promise
            .then(function () {
              return mathjax.typesetPromise(elements);
            })
            .catch(function (error) {
              console.warn("MathJax could not typeset a widget label:", error);
            });
        }
      },
    };
  });
})();

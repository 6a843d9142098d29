// The book's widgets in the static HTML: loaded when needed, named for screen readers, and
// honest about what works without a kernel. Listed in nb_ipywidgets_js (_config.yml), so
// Sphinx adds it, deferred, only to pages that embed widget state.
//
// 1. Lazy loading. The widget manager (npm @jupyter-widgets/html-manager, dist/embed.js,
//    450 kB compressed) and the page's widget state (a file beside the page, written by
//    _ext/d2l_site, named in data-widget-state) load only when a widget comes within about
//    a screen of the viewport, or when the page is printed: a reader of the first screen
//    downloads and runs neither.
// 2. Accessibility. Slider handles get the slider's label as their name and the value it
//    shows as their spoken value ("learning rate", "0.1"), instead of a bare position.
// 3. Honest controls. With data-kernel="none" on this script (the static book), the root
//    element gets the class d2l-no-kernel, and a panel of class d2l-training-panel, whose
//    Python callbacks need a kernel, is made inert (not focusable, not clickable, greyed out
//    by static/d2l.css) under a note that says how to bring it to life: JupyterLite, Binder or Colab,
//    the rocket button's links. A page with a live kernel drops that attribute.
//
// Progress is visible to tests as <html data-widgets="waiting|loading|ready|failed">.
(function () {
  "use strict";
  var script = document.currentScript;
  var root = document.documentElement;
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  var STATE = "application/vnd.jupyter.widget-state+json";
  var managerURL = new URL("npm/html-manager/embed.js", script.src).href;
  var stateURL = script.dataset.widgetState && new URL(script.dataset.widgetState, document.baseURI).href;
  var noKernel = script.dataset.kernel === "none";
  var started = false;

  if (noKernel) {
    root.classList.add("d2l-no-kernel");
  }

  // The state file calls this with the page's widget state.
  window.d2lWidgets = {
    addState: function (state) {
      var tag = document.createElement("script");
      tag.type = STATE;
      tag.textContent = JSON.stringify(state);
      document.body.appendChild(tag);
    },
  };

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = url;
      tag.onload = resolve;
      tag.onerror = function () {
        reject(new Error("could not load " + url));
      };
      document.head.appendChild(tag);
    });
  }

  // embed.js renders the widgets on the window's load event. Once the page has loaded, that
  // event is over: run the listener it registers ourselves, as soon as it has registered it.
  function loadManager() {
    if (document.readyState !== "complete") {
      return loadScript(managerURL);
    }
    var addEventListener = window.addEventListener;
    var onLoad = [];
    window.addEventListener = function (type, listener) {
      if (type === "load") {
        onLoad.push(listener);
      } else {
        addEventListener.apply(window, arguments);
      }
    };
    function restore() {
      window.addEventListener = addEventListener;
    }
    return loadScript(managerURL).then(
      function () {
        restore();
        onLoad.forEach(function (listener) {
          listener.call(window, new Event("load"));
        });
      },
      function (error) {
        restore();
        throw error;
      },
    );
  }

  function start() {
    if (started) {
      return;
    }
    started = true;
    root.dataset.widgets = "loading";
    var state = stateURL ? loadScript(stateURL) : Promise.resolve();
    state
      .then(loadManager)
      .then(watchRendering)
      .catch(function (error) {
        root.dataset.widgets = "failed";
        console.error("The interactive widgets could not be loaded:", error);
      });
  }

  // ------------------------------------------------------------------ after rendering

  function visible(element) {
    return element && element.getClientRects().length > 0;
  }

  function label(slider) {
    var text = slider.querySelector(".widget-label");
    return text ? text.textContent.trim() : "";
  }

  // What the slider shows as its value: its own read-out, or, for a slider without one,
  // the read-out widget beside it (the explorer's, linked to it in the browser).
  function shownValue(slider) {
    var readout = slider.querySelector(".widget-readout");
    if (visible(readout)) {
      return readout.textContent.trim();
    }
    var next = slider.nextElementSibling;
    if (!next) {
      return "";
    }
    var shown = Array.prototype.filter.call(next.querySelectorAll(".widget-html-content"), visible);
    return shown.length === 1 ? shown[0].textContent.trim() : "";
  }

  function setAttribute(element, name, value) {
    if (value && element.getAttribute(name) !== value) {
      element.setAttribute(name, value);
    }
  }

  function nameSliders(container) {
    container.querySelectorAll(".widget-slider").forEach(function (slider) {
      var handle = slider.querySelector(".noUi-handle");
      if (handle) {
        setAttribute(handle, "aria-label", label(slider));
        setAttribute(handle, "aria-valuetext", shownValue(slider));
      }
    });
  }

  function launchLinks() {
    var links = {};
    document.querySelectorAll(".dropdown-launch-buttons a[href]").forEach(function (a) {
      if (/\/lite\/notebooks\//.test(a.href)) {
        links.lite = a.href;
      } else if (/mybinder\.org/.test(a.href)) {
        links.binder = a.href;
      } else if (/colab\.research\.google\.com/.test(a.href)) {
        links.colab = a.href;
      }
    });
    return links;
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  // A panel whose callbacks need a kernel: inert, with a note above it.
  function disablePanel(panel) {
    if (panel.hasAttribute("inert")) {
      return;
    }
    panel.setAttribute("inert", "");
    var subarea = panel.closest(".widget-subarea") || panel;
    var note = document.createElement("p");
    note.className = "d2l-kernel-note";
    var strong = document.createElement("strong");
    strong.textContent = "Live training needs a Python kernel, and this page has none.";
    note.appendChild(strong);
    var links = launchLinks();
    if (links.binder || links.colab) {
      note.appendChild(document.createTextNode(" The panel below shows its controls only. Open the chapter "));
      if (links.lite) {
        note.appendChild(link(links.lite, "right here in your browser"));
        note.appendChild(
          document.createTextNode(
            location.protocol === "file:"
              ? " (JupyterLite: Python runs in the page, once the book is served over HTTP, as `make serve` does;" +
                  " from a file, as now, it cannot start), or in "
              : " (JupyterLite: Python runs in the page), or in ",
          ),
        );
      } else {
        note.appendChild(document.createTextNode("in "));
      }
      if (links.binder) {
        note.appendChild(link(links.binder, "Binder"));
      }
      if (links.binder && links.colab) {
        note.appendChild(document.createTextNode(" or "));
      }
      if (links.colab) {
        note.appendChild(link(links.colab, "Colab"));
      }
      note.appendChild(
        document.createTextNode(
          " (the rocket button at the top of the page) or in Jupyter on your computer, and the panel trains live.",
        ),
      );
    } else {
      note.appendChild(
        document.createTextNode(" The panel below shows its controls only; run the notebook in Jupyter to use it."),
      );
    }
    subarea.parentNode.insertBefore(note, subarea);
  }

  function enhance() {
    document.querySelectorAll(".widget-subarea").forEach(nameSliders);
    if (noKernel) {
      document.querySelectorAll(".d2l-training-panel").forEach(disablePanel);
    }
  }

  function rendered() {
    var views = document.querySelectorAll(VIEW);
    return Array.prototype.every.call(views, function (view) {
      var subarea = view.previousElementSibling;
      return subarea && subarea.classList.contains("widget-subarea") && subarea.firstElementChild;
    });
  }

  // Widgets render asynchronously and re-render when a linked value changes (a slider moves
  // a read-out): keep names and values up to date with what is on screen.
  function watchRendering() {
    var pending = false;
    function update() {
      pending = false;
      enhance();
      if (root.dataset.widgets === "loading" && rendered()) {
        enhance();
        root.dataset.widgets = "ready";
      }
    }
    var observer = new MutationObserver(function () {
      if (!pending) {
        pending = true;
        requestAnimationFrame(update);
      }
    });
    document.querySelectorAll(VIEW).forEach(function (view) {
      observer.observe(view.parentNode, { subtree: true, childList: true, attributes: true });
    });
    update();
  }

  // ------------------------------------------------------------------ when to start

  function watchForWidgets() {
    var views = document.querySelectorAll(VIEW);
    if (!views.length) {
      return;
    }
    root.dataset.widgets = "waiting";
    window.addEventListener("beforeprint", start);
    if (!("IntersectionObserver" in window)) {
      start();
      return;
    }
    var observer = new IntersectionObserver(
      function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) {
          observer.disconnect();
          start();
        }
      },
      { rootMargin: "100% 0px 100% 0px" },
    );
    views.forEach(function (view) {
      observer.observe(view.closest(".cell") || view.parentNode);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watchForWidgets);
  } else {
    watchForWidgets();
  }
})();

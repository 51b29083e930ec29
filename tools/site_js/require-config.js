// Loaded before require.js and the widget manager, on pages that hold widgets.

// require.js reads this global as its configuration. The html-manager finds its fonts under
// require's baseUrl: point it at the folder of this script, which works at any page depth.
var require = { baseUrl: document.currentScript.src.replace(/[^/]*$/, "") };

// The html-manager typesets widget labels with MathJax 2's API (MathJax.Hub.Queue); the site
// loads MathJax 3, which has no Hub. Give it one that calls MathJax 3, before MathJax has loaded
// (window.MathJax is still the configuration then) and after (startup.ready puts it back).
(function () {
  var hub = {
    Queue: function (call) {
      var mathjax = window.MathJax;
      if (mathjax && mathjax.typesetPromise && call && call[2]) {
        mathjax.typesetPromise([call[2]]).catch(function () {});
      }
    },
  };
  var config = (window.MathJax = window.MathJax || {});
  config.Hub = hub;
  var startup = (config.startup = config.startup || {});
  var ready = startup.ready;
  startup.ready = function () {
    if (ready) ready();
    else window.MathJax.startup.defaultReady();
    window.MathJax.Hub = hub;
  };
})();

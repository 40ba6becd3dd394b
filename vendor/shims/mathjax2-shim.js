// @jupyter-widgets/base still calls MathJax 2's MathJax.Hub.Queue, which does not exist in
// MathJax 3 and throws on pages with widgets. Forward it to MathJax 3's typesetPromise.
(function () {
  function queue() {
    var mj = window.MathJax;
    if (mj && mj.typesetPromise) {
      mj.typesetPromise().catch(function () {});
    }
  }
  function install() {
    if (window.MathJax && !window.MathJax.Hub) {
      window.MathJax.Hub = { Queue: queue };
    }
  }
  install();
  document.addEventListener("DOMContentLoaded", install);
})();

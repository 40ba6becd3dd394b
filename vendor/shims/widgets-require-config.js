// html-manager's AMD bundles load their icon fonts from "<module folder>/html-manager/dist/",
// as they would from a CDN's npm layout. Map every @jupyter-widgets module id into this site's
// copy of that layout (vendor/site/jupyter-widgets/), wherever the page lives.
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "") + "jupyter-widgets/";
  var paths = {};
  ["base", "base7", "controls", "controls7", "html-manager", "output"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = here + name;
  });
  require.config({ paths: paths });
})();

// The console works without this file; it only moves keyboard focus to a
// form's error summary after a failed submission, so screen reader and
// keyboard users hear what went wrong first.
(function () {
  'use strict';
  var el = document.querySelector('[data-autofocus]');
  if (el) {
    el.focus();
  }
})();

/* The live parts of the site and the monitor: htmx polls every element marked data-live; a poll
   is skipped while the tab is hidden or a row is selected for an action, and a tab shown again
   refreshes at once. No trigger filter is evaluated as a string (the Content-Security-Policy
   forbids eval), so the pause is decided here. Django's actions.js binds the admin's action
   checkboxes once, at load: they are wired again after each refresh. */
'use strict';
(function () {
  function liveAllowed() {
    return document.visibilityState === 'visible' &&
      !document.querySelector('#result_list input.action-select:checked');
  }
  document.addEventListener('htmx:confirm', function (event) {
    const element = event.detail.elt;
    if (element.hasAttribute('data-live') && !liveAllowed()) {
      event.preventDefault();
    }
  });
  document.addEventListener('visibilitychange', function () {
    if (liveAllowed() && window.htmx) {
      document.querySelectorAll('[data-live]').forEach(function (element) {
        window.htmx.trigger(element, 'live-refresh');
      });
    }
  });
  document.addEventListener('htmx:afterSwap', function () {
    const boxes = document.querySelectorAll('tr input.action-select');
    if (window.Actions && boxes.length) {
      window.Actions(boxes);
    }
  });
})();

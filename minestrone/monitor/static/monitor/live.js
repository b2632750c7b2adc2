/* The live parts of the site and the monitor: htmx polls every element marked data-live; a poll
   is skipped (and one already sent is not swapped in) while the tab is hidden or a row is
   selected for an action, and a tab shown again refreshes at once. No trigger filter is
   evaluated as a string (the Content-Security-Policy forbids eval), so the pause is decided
   here. Django's actions.js binds the admin's action checkboxes once, at load, adding listeners
   to the document and window at each call: rows swapped in by a refresh are bound when the user
   first touches one of their checkboxes, so polling alone never adds a listener. */
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
  // A poll sent before a row was selected may answer after: its rows would replace the
  // selected ones, so it is dropped (the next allowed poll refreshes).
  document.addEventListener('htmx:beforeSwap', function (event) {
    const element = event.detail.elt;
    if (element && element.hasAttribute('data-live') && !liveAllowed()) {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener('visibilitychange', function () {
    if (liveAllowed() && window.htmx) {
      document.querySelectorAll('[data-live]').forEach(function (element) {
        window.htmx.trigger(element, 'live-refresh');
      });
    }
  });
  let swappedUnbound = false;
  document.addEventListener('htmx:afterSwap', function () {
    swappedUnbound = true;
  });
  // In the capture phase: the listeners Actions adds are in place before the click (and the
  // change that follows it) reach the checkbox and its table.
  document.addEventListener('click', function (event) {
    const target = event.target;
    if (!swappedUnbound || !window.Actions || !(target instanceof Element) ||
        !target.matches('#result_list input.action-select, #result_list #action-toggle')) {
      return;
    }
    const boxes = document.querySelectorAll('tr input.action-select');
    if (boxes.length) {
      swappedUnbound = false;
      window.Actions(boxes);
    }
  }, true);
})();

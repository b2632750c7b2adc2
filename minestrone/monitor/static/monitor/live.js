/* The monitor's live lists: htmx polls the rows; polling pauses while the tab is hidden or a
   row is selected for an action, and the admin's action checkboxes are wired again after each
   refresh (Django's actions.js binds them once, at load). */
'use strict';
window.monitorLiveAllowed = function () {
  return document.visibilityState === 'visible' &&
    !document.querySelector('#result_list input.action-select:checked');
};
document.addEventListener('htmx:afterSwap', function () {
  const boxes = document.querySelectorAll('tr input.action-select');
  if (window.Actions && boxes.length) {
    window.Actions(boxes);
  }
});

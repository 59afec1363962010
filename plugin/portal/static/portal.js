// The one script of the portal: the print button of the recovery codes page (everything else is forms).
document.addEventListener('DOMContentLoaded', () => {
  const print = document.getElementById('print');
  if (print) print.addEventListener('click', () => window.print());
});

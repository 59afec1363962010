// The one script of the portal: the print button of the recovery codes page, and the pairing page's
// status, which follows the phone by itself (everything else is forms).
function followPairing(status) {
  const poll = async () => {
    try {
      const reply = await fetch(status.dataset.poll, {
        headers: { accept: 'application/json' },
        cache: 'no-store',
      });
      const progress = await reply.json();
      if (progress.state !== status.dataset.state) {
        status.dataset.state = progress.state;
        status.textContent = progress.text;
      }
      if (progress.state !== 'waiting') return;
    } catch {
      // the network or the server is away for a moment: keep asking
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
}

document.addEventListener('DOMContentLoaded', () => {
  const print = document.getElementById('print');
  if (print) print.addEventListener('click', () => window.print());
  const status = document.getElementById('pairing-status');
  if (status?.dataset.poll) followPairing(status);
});

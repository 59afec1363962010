// Tessera push waiting page: asks again every 2 s whether the phone approved, so the login
// completes by itself. A file, not inline script, so a strict Content-Security-Policy allows it.
// It holds off while the user types a code instead, and stops once a form is being sent.
(() => {
  const poll = document.getElementById('kc-tessera-push-poll');
  const codeForm = document.getElementById('kc-tessera-push-code');
  const code = document.getElementById('otp');
  if (!poll) return;
  let sending = false;
  codeForm?.addEventListener('submit', () => {
    sending = true;
  });
  const tick = () => {
    if (sending) return;
    if (code && (code.value.trim() !== '' || document.activeElement === code)) {
      setTimeout(tick, 2000);
      return;
    }
    sending = true;
    poll.submit();
  };
  setTimeout(tick, 2000);
})();

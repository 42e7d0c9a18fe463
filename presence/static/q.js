// Geofenced check-in: read the phone's position once and post it with the
// page's nonce. Nothing is stored until the server has checked it.
(function () {
  var form = document.getElementById('locate-form');
  if (!form) return;
  var btn = document.getElementById('locate-button');
  var errBox = document.getElementById('locate-error');
  function fail(reason) {
    errBox.textContent = form.getAttribute('data-denied').replace('%s', reason);
    errBox.hidden = false;
    btn.disabled = false;
  }
  function locate() {
    if (!navigator.geolocation) { fail('geolocation unavailable'); return; }
    btn.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById('lat').value = pos.coords.latitude;
      document.getElementById('lng').value = pos.coords.longitude;
      document.getElementById('acc').value = pos.coords.accuracy;
      form.submit();
    }, function (e) { fail(e.message || ('error ' + e.code)); },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  }
  btn.addEventListener('click', locate);
  locate();
})();

// Pre-select the browser's own time zone in an untouched time-zone field
// (sign-up), so people don't have to find it in a long list.
const field = document.querySelector("select[data-guess-timezone]");
if (field && field.value === "UTC") {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && [...field.options].some((option) => option.value === zone)) {
    field.value = zone;
  }
}

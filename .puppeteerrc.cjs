// Puppeteer drives the system Chromium (Debian's package); its own browser download cannot work here.
module.exports = { skipDownload: true };

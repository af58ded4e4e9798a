package io.rackroll.e2e;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.function.Predicate;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * One admin at the web console: Debian's Chromium, headless, driven through its ChromeDriver.
 * The browser trusts the controller's server key and nothing else (its public key pinned), the
 * way an admin who imported ca.crt would. Each console has its own profile, so two are two
 * people.
 */
final class Console implements AutoCloseable {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  /** Where screenshots go: target/console (the current ones are copied to docs/console by hand). */
  static final Path SCREENSHOTS = Path.of("target", "console");
  static final Duration PAGE = Duration.ofSeconds(30);

  private final ChromeDriver driver;

  private Console(ChromeDriver driver) {
    this.driver = driver;
  }

  /** A browser for {@code fleet}'s console, its profile under {@code dir}. */
  static Console open(Fleet fleet, Path dir) throws Exception {
    Path profile = Files.createDirectories(dir);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--window-size=1400,1000", "--user-data-dir=" + profile,
        "--ignore-certificate-errors-spki-list=" + spki(fleet.data.resolve("pki/server.crt")));
    // The page's console messages, for a failure to show what the page said.
    org.openqa.selenium.logging.LoggingPreferences logs = new org.openqa.selenium.logging.LoggingPreferences();
    logs.enable(org.openqa.selenium.logging.LogType.BROWSER, java.util.logging.Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    return new Console(new ChromeDriver(service, options));
  }

  /** The base64 SHA-256 of a certificate's public key, as Chromium's pin list takes it. */
  private static String spki(Path certificate) throws Exception {
    try (var in = Files.newInputStream(certificate)) {
      X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(c.getPublicKey().getEncoded()));
    }
  }

  /** Follows a link from 'rackroll web login'; returns once the console shows who is signed in. */
  void signIn(String link) {
    driver.get(link);
    awaitText("#who", who -> !who.isEmpty());
  }

  /** Opens a page by its address after the '#' (fleet, deployments, deployment/ID, …). */
  void go(String page) {
    driver.get(base() + "/#" + page);
  }

  String base() {
    String url = driver.getCurrentUrl();
    return url.substring(0, url.indexOf('/', "https://".length()));
  }

  String url() {
    return driver.getCurrentUrl();
  }

  WebElement find(String css) {
    return driver.findElement(By.cssSelector(css));
  }

  List<WebElement> all(String css) {
    return driver.findElements(By.cssSelector(css));
  }

  /** Waits until the element {@code css} exists and its text passes {@code until}; returns the text. */
  String awaitText(String css, Predicate<String> until) {
    String[] last = {""};
    try {
      await(css + " shows what is expected").atMost(PAGE).ignoreExceptions().until(() -> {
        last[0] = find(css).getText();
        return until.test(last[0]);
      });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(css + " never showed what was expected; last it showed: " + last[0]
          + "\nthe page's message: " + all("#message").stream().map(WebElement::getText).findFirst().orElse("")
          + "\nthe page's console said:\n" + pageLog(), e);
    }
    return last[0];
  }

  /** Waits until {@code css} matches {@code n} elements. */
  void awaitCount(String css, int n) {
    await(n + " of " + css).atMost(PAGE).until(() -> all(css).size() == n);
  }

  /** Clicks the first button {@code label} inside {@code css}, once it is there and enabled. */
  void click(String css, String label) {
    // A live page may draw the button again between finding it and clicking it: find it again.
    await("button '" + label + "' in " + css).atMost(PAGE).ignoreExceptionsInstanceOf(StaleElementReferenceException.class)
        .until(() -> {
          WebElement b = button(css, label);
          if (b == null || !b.isEnabled()) {
            return false;
          }
          b.click();
          return true;
        });
  }

  /** The button {@code label} inside {@code css}, or null. */
  WebElement button(String css, String label) {
    for (WebElement b : all(css + " button")) {
      if (b.getText().equals(label)) {
        return b;
      }
    }
    return null;
  }

  /** Runs {@code script} in the page (an async one: it calls arguments[arguments.length - 1] with its result). */
  Object script(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeAsyncScript(script, args);
  }

  /** What the page wrote to its console, one message a line. */
  String pageLog() {
    StringBuilder b = new StringBuilder();
    driver.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER)
        .forEach(e -> b.append(e.getLevel()).append(' ').append(e.getMessage()).append('\n'));
    return b.toString();
  }

  /** Saves the page as {@code name}.png under {@link #SCREENSHOTS}. */
  void screenshot(String name) throws IOException {
    Files.createDirectories(SCREENSHOTS);
    Files.write(SCREENSHOTS.resolve(name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
  }

  @Override
  public void close() {
    driver.quit();
  }
}

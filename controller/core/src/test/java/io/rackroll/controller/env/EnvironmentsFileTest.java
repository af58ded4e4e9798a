package io.rackroll.controller.env;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EnvironmentsFileTest {
  private static final String GOOD = """
      lifecycle: [staging, production]
      environments:
        staging:
          selector: env=staging
          strategy: {batch: 50%, healthGate: 5s}
          variables: {greeting: hello staging, db.port: 5432}
        production:
          selector: env=prod,role=web
          timezone: Europe/Berlin
          strategy:
            batch: 10%
            maxPerRack: 1
          windows:
            - {days: [mon, tue, wed, thu], start: "09:00", end: "16:00"}
          freezes:
            - {from: 2026-12-20, to: 2027-01-03, reason: year-end}
      """;

  private static Environments parse(String yaml) {
    return EnvironmentsFile.parse(yaml, "envs.yaml", 3, "admin", Instant.EPOCH);
  }

  @Test
  void readsEnvironmentsInOrderWithTheirStrategyAndSchedule() {
    Environments e = parse(GOOD);
    assertThat(e.version()).isEqualTo(3);
    assertThat(e.lifecycle()).containsExactly("staging", "production");
    assertThat(e.byName()).containsOnlyKeys("staging", "production");
    assertThat(e.before("production")).contains("staging");
    assertThat(e.before("staging")).isEmpty();
    Environment prod = e.get("production").orElseThrow();
    assertThat(prod.selector().text()).isEqualTo("env=prod,role=web");
    assertThat(prod.strategy()).containsEntry("batch", "10%").containsEntry("maxPerRack", "1");
    assertThat(prod.schedule().windows()).hasSize(1);
    assertThat(prod.schedule().windows().get(0)).hasToString("mon,tue,wed,thu 09:00-16:00 Europe/Berlin");
    assertThat(prod.schedule().freezes().get(0).to()).isEqualTo(Instant.parse("2027-01-03T23:00:00Z"));
    assertThat(e.get("staging").orElseThrow().schedule().windows()).isEmpty();
    assertThat(e.get("staging").orElseThrow().variables()).containsExactly(java.util.Map.entry("db.port", "5432"),
        java.util.Map.entry("greeting", "hello staging"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
      unknown top key       | envs:\\n  a: {selector: x=1}                                         | envs.yaml line 1: unknown key "envs" (expected one of: lifecycle, environments)
      no environments       | lifecycle: [a]                                                     | envs.yaml line 1: missing "environments:"
      unknown env key       | environments:\\n  a: {selector: x=1, colour: red}                  | envs.yaml line 2: a: unknown key "colour" (expected one of: selector, timezone, strategy, variables, windows, freezes, requirePromotion)
      bad name              | environments:\\n  Prod: {selector: x=1}                            | envs.yaml line 2: environments: environment name "Prod" must be lowercase
      no selector           | environments:\\n  a: {timezone: UTC}                               | envs.yaml line 2: a: missing "selector"
      empty selector        | environments:\\n  a: {selector: ''}                                | envs.yaml line 2: a.selector: must not be empty
      bad selector          | environments:\\n  a: {selector: 'env=='}                           | envs.yaml line 2: a.selector:
      bad zone              | environments:\\n  a: {selector: x=1, timezone: Mars/Olympus}       | envs.yaml line 2: a.timezone: unknown time zone "Mars/Olympus"
      unknown option        | environments:\\n  a:\\n    selector: x=1\\n    strategy: {batchSize: 2} | envs.yaml line 4: a.strategy: unknown option "batchSize"
      bad option value      | environments:\\n  a:\\n    selector: x=1\\n    strategy: {batch: lots} | envs.yaml line 4: a.strategy: batch (--batch)
      bad time              | environments:\\n  a:\\n    selector: x=1\\n    windows:\\n      - {days: mon, start: '25:00', end: '26:00'} | envs.yaml line 5: a.windows[0].start: expected a 24-hour time like "09:00" or "24:00", got "25:00"
      bad day               | environments:\\n  a:\\n    selector: x=1\\n    windows:\\n      - {days: mon-fry, start: '09:00', end: '17:00'} | envs.yaml line 5: a.windows[0].days: unknown day "fry"
      start equals end      | environments:\\n  a:\\n    selector: x=1\\n    windows:\\n      - {days: mon, start: '09:00', end: '09:00'} | envs.yaml line 5: a.windows[0].end: equals the start
      window without end    | environments:\\n  a:\\n    selector: x=1\\n    windows:\\n      - {days: mon, start: '09:00'} | envs.yaml line 5: a.windows[0]: missing "end"
      empty windows         | environments:\\n  a:\\n    selector: x=1\\n    windows: []             | envs.yaml line 4: a.windows: an empty list would never allow a change
      freeze backwards      | environments:\\n  a:\\n    selector: x=1\\n    freezes:\\n      - {from: 2027-01-03, to: 2026-12-20, reason: x} | envs.yaml line 5: a.freezes[0].to: is not after "from" (2027-01-03)
      freeze bad date       | environments:\\n  a:\\n    selector: x=1\\n    freezes:\\n      - {from: soon, to: 2026-12-20, reason: x} | envs.yaml line 5: a.freezes[0].from: expected a date (2026-12-20)
      freeze no reason      | environments:\\n  a:\\n    selector: x=1\\n    freezes:\\n      - {from: 2026-12-19, to: 2026-12-20} | envs.yaml line 5: a.freezes[0]: missing "reason"
      lifecycle unknown     | lifecycle: [a, b]\\nenvironments:\\n  a: {selector: x=1}           | envs.yaml line 1: lifecycle: unknown environment "b" (declared: a)
      lifecycle twice       | lifecycle: [a, a]\\nenvironments:\\n  a: {selector: x=1}           | envs.yaml line 1: lifecycle: "a" appears twice
      bad variable name     | environments:\\n  a:\\n    selector: x=1\\n    variables: {'db password': x} | envs.yaml line 4: a.variables: "db password" is not a variable name
      variable not a value  | environments:\\n  a:\\n    selector: x=1\\n    variables: {db: [a, b]} | envs.yaml line 4: a.variables.db: expected a single value
      declared twice        | environments:\\n  a: {selector: x=1}\\n  a: {selector: x=2}        | envs.yaml line 3: environments: environment "a" is declared twice
      not yaml              | environments: [a                                                   | envs.yaml: not valid YAML
      a tag SnakeYAML throws on | !%0b                                                         | envs.yaml: not valid YAML: Tag must not contain leading or trailing spaces.
      """)
  void refusesMistakesWithLineAndKey(String what, String yaml, String message) {
    assertThatThrownBy(() -> parse(yaml.replace("\\n", "\n"))).as(what)
        .isInstanceOf(EnvironmentException.class).hasMessageStartingWith(message);
  }
}

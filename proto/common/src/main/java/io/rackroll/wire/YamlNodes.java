package io.rackroll.wire;

import java.io.StringReader;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/** YAML an operator or a release author wrote, read into nodes: the one way Rackroll parses it. */
public final class YamlNodes {
  private YamlNodes() {}

  /**
   * The document's root node, or null for an empty one. Anything SnakeYAML refuses is a
   * {@link YAMLException}, including what it refuses with another exception (a tag such as
   * {@code !%0b} is an IllegalArgumentException from deep inside it).
   */
  public static Node compose(String text) {
    try {
      return new Yaml(new LoaderOptions()).compose(new StringReader(text));
    } catch (YAMLException e) {
      throw e;
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new YAMLException(String.valueOf(e.getMessage()), e);
    }
  }
}

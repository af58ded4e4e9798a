package io.rackroll.agent.lifecycle;

import java.io.IOException;

/**
 * The work of one {@link Phase}: takes the job as persisted in that phase and returns it in the
 * next one, which the runner persists before any step acts on it. A step that throws an
 * {@link IOException} leaves the runner to end the job (see {@link Lifecycle}).
 */
@FunctionalInterface
interface Step {
  Job run(Job job) throws IOException, InterruptedException;
}

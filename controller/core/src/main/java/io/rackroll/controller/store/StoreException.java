package io.rackroll.controller.store;

/** Thrown when the database fails, or refuses a write ({@link LeaseStore.Fenced}); the message names the operation. */
public class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

package dev.kv.core.backup;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/** The lines of a stream, as bytes, without their newlines; tells whether the last had one. */
final class LineReader implements Closeable {

  /** Longer than any line an export has: a value's JSON, escaped, at its largest. */
  static final int MAX_LINE = 64 << 20;

  private final InputStream in;
  private final byte[] buffer = new byte[1 << 16];
  private int position;
  private int end;
  private boolean endedWithNewline = true;
  private long lineNumber;

  LineReader(InputStream in) {
    this.in = in;
  }

  /**
   * The next line, or null at the end of the stream.
   *
   * @throws IllegalArgumentException for a line longer than {@link #MAX_LINE}
   */
  byte[] next() throws IOException {
    byte[] line = new byte[0];
    int length = 0;
    while (true) {
      if (position == end) {
        end = in.read(buffer);
        position = 0;
        if (end <= 0) {
          end = 0;
          if (length == 0) {
            return null;
          }
          endedWithNewline = false;
          lineNumber++;
          return Arrays.copyOf(line, length);
        }
      }
      int newline = position;
      while (newline < end && buffer[newline] != '\n') {
        newline++;
      }
      int taken = newline - position;
      if (length + taken > MAX_LINE) {
        throw new IllegalArgumentException("it is longer than any line of an export");
      }
      if (length + taken > line.length) {
        line = Arrays.copyOf(line, Math.max(length + taken, line.length * 2));
      }
      System.arraycopy(buffer, position, line, length, taken);
      length += taken;
      position = newline;
      if (newline < end) {
        position++;
        lineNumber++;
        return length == line.length ? line : Arrays.copyOf(line, length);
      }
    }
  }

  /** The number of the line {@link #next} gave last, from 1. */
  long lineNumber() {
    return lineNumber;
  }

  /** Whether the stream ended with a newline, once {@link #next} has given null. */
  boolean endedWithNewline() {
    return endedWithNewline;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}

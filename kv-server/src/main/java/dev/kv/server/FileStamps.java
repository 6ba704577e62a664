package dev.kv.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The modification times and sizes of some files, to notice when they change: certificates renewed
 * or tokens rotated are read again without a restart.
 */
final class FileStamps {

  private final List<Path> files;
  private List<Object> last;

  FileStamps(List<Path> files) {
    this.files = List.copyOf(files);
    this.last = stamps();
  }

  /** Whether any of the files changed since the last call (or since this object was made). */
  synchronized boolean changed() {
    List<Object> now = stamps();
    if (Objects.equals(now, last)) {
      return false;
    }
    last = now;
    return true;
  }

  List<Path> files() {
    return files;
  }

  private List<Object> stamps() {
    List<Object> stamps = new ArrayList<>();
    for (Path file : files) {
      try {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        stamps.add(
            List.of(
                attributes.lastModifiedTime(),
                attributes.size(),
                attributes.fileKey() == null ? "" : attributes.fileKey()));
      } catch (IOException e) {
        // Missing for a moment, as when a tool replaces the file: compared as such.
        stamps.add("missing");
      }
    }
    return stamps;
  }
}

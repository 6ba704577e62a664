package dev.kv.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * How {@code kv} lays out its help: the commands before the long list of options; on a command's
 * page, its own options first and the global ones (which every command takes) after, under their
 * own heading; the exit codes at the end of every page.
 */
final class HelpLayout {

  private static final String GLOBAL_OPTIONS_HEADING = "%nGlobal options:%n";

  private HelpLayout() {}

  static void apply(CommandLine commandLine) {
    commandLine.setHelpFactory(OwnOptionsInSynopsis::new);
    applyToEach(commandLine);
  }

  private static void applyToEach(CommandLine command) {
    UsageMessageSpec usage = command.getCommandSpec().usageMessage();
    usage.exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCodes.DESCRIPTIONS);
    List<String> sections = new ArrayList<>(usage.sectionKeys());
    List<String> commands =
        List.of(
            UsageMessageSpec.SECTION_KEY_COMMAND_LIST_HEADING,
            UsageMessageSpec.SECTION_KEY_COMMAND_LIST);
    sections.removeAll(commands);
    sections.addAll(sections.indexOf(UsageMessageSpec.SECTION_KEY_OPTION_LIST_HEADING), commands);
    usage.sectionKeys(sections);
    Map<String, CommandLine.IHelpSectionRenderer> renderers = usage.sectionMap();
    renderers.put(UsageMessageSpec.SECTION_KEY_OPTION_LIST, HelpLayout::optionLists);
    usage.sectionMap(renderers);
    command.getSubcommands().values().forEach(HelpLayout::applyToEach);
  }

  /** The command's own options, then the global ones: all of kv's own are global. */
  private static String optionLists(Help help) {
    List<OptionSpec> own = new ArrayList<>();
    List<OptionSpec> global = new ArrayList<>();
    for (OptionSpec option : help.commandSpec().options()) {
      (isGlobal(help, option) ? global : own).add(option);
    }
    // A layout per list (it keeps the rows it rendered), each as wide as the whole command's.
    String ownList =
        help.optionListExcludingGroups(
            own,
            help.createDefaultLayout(),
            help.createDefaultOptionSort(),
            help.createDefaultParamLabelRenderer());
    if (global.isEmpty()) {
      return ownList;
    }
    // In the order kv declares them, which puts the most used first.
    return ownList
        + String.format(GLOBAL_OPTIONS_HEADING)
        + help.optionListExcludingGroups(
            global, help.createDefaultLayout(), null, help.createDefaultParamLabelRenderer());
  }

  private static boolean isGlobal(Help help, OptionSpec option) {
    return option.inherited() || help.commandSpec().parent() == null;
  }

  /** A command's synopsis names its own options, and the global ones only as a group. */
  private static final class OwnOptionsInSynopsis extends Help {

    OwnOptionsInSynopsis(CommandLine.Model.CommandSpec spec, ColorScheme colors) {
      super(spec, colors);
    }

    @Override
    protected Text createDetailedSynopsisOptionsText(
        Collection<ArgSpec> done,
        List<OptionSpec> options,
        Comparator<OptionSpec> sort,
        boolean clusterBooleanOptions) {
      List<OptionSpec> own = options.stream().filter(option -> !isGlobal(this, option)).toList();
      Text text = super.createDetailedSynopsisOptionsText(done, own, sort, clusterBooleanOptions);
      return own.size() == options.size() ? text : text.concat(" [GLOBAL OPTIONS]");
    }
  }
}

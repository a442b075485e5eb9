using System.CommandLine;
using Lb.Core.Validation;

namespace Lb.Server;

/// <summary>
/// The command line: <c>serve</c>, <c>config get|put|validate|explain|import</c>, <c>cluster status|bootstrap|join|remove</c>.
/// Exit codes: 0 success, 1 the operation failed or was rejected, 2 invalid usage.
/// </summary>
internal static class Cli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    private static readonly string[] Commands = ["serve", "config", "cluster"];
    private static readonly string[] Flags = ["-h", "--help", "-?", "--version"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && !Commands.Contains(args[0]) && !Flags.Contains(args[0]) && !args[0].StartsWith('-'))
        {
            // Reference compatibility: a first argument that names a file is an app.json path to serve. Anything
            // else is a mistyped command, not a missing boot file.
            if (!LooksLikePath(args[0]))
            {
                var meant = Suggestions.Closest(args[0], Commands);
                await Console.Error.WriteLineAsync($"lb: unknown command '{args[0]}'{(meant is null ? "" : $"; did you mean '{meant}'?")} Run 'lb --help' for the commands.");
                return Usage;
            }
            args = ["serve", .. args];
        }
        var root = Build();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command;
            var unknown = parsed.UnmatchedTokens.FirstOrDefault();
            var subcommands = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToArray();
            if (unknown is not null && subcommands.Length > 0 && !parsed.CommandResult.Children.Any())
            {
                var meant = Suggestions.Closest(unknown, subcommands);
                await Console.Error.WriteLineAsync($"lb: unknown command '{command.Name} {unknown}'{(meant is null ? "" : $"; did you mean '{command.Name} {meant}'?")} Commands: {string.Join(", ", subcommands)}.");
                return Usage;
            }
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"lb: {error.Message}");
            }
            await Console.Error.WriteLineAsync("Run with --help for usage.");
            return Usage;
        }
        // Termination signals belong to the host, which drains for drainTimeout; System.CommandLine's own handler
        // would end the process after 2 s (exit 143) with requests still in flight.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static bool LooksLikePath(string arg) =>
        arg.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || arg.Contains('/', StringComparison.Ordinal) || File.Exists(arg);

    private static RootCommand Build()
    {
        var root = new RootCommand("Lb: a clustered L7 load balancer. With no command it serves with configs/app.json when present, otherwise with the defaults.");
        var serve = ServeCommand.Create();
        root.Add(serve);
        root.Add(ClientCommands.Config());
        root.Add(ClientCommands.Cluster());
        root.SetAction((result, ct) => ServeCommand.RunAsync(null, "info", ct));
        return root;
    }
}

using System.CommandLine;

namespace Lb.Server;

/// <summary>
/// The command line: <c>serve</c>, <c>config get|put|validate|explain</c>, <c>cluster status|bootstrap|join|remove</c>.
/// Exit codes: 0 success, 1 the operation failed or was rejected, 2 invalid usage.
/// </summary>
internal static class Cli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    private static readonly string[] Commands = ["serve", "config", "cluster", "-h", "--help", "-?", "--version"];

    public static async Task<int> RunAsync(string[] args)
    {
        // Reference compatibility: a first argument that is not a command is an app.json path to serve.
        if (args.Length > 0 && !Commands.Contains(args[0]) && !args[0].StartsWith('-'))
        {
            args = ["serve", .. args];
        }
        var root = Build();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message);
            }
            await Console.Error.WriteLineAsync("Run with --help for usage.");
            return Usage;
        }
        return await parsed.InvokeAsync();
    }

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

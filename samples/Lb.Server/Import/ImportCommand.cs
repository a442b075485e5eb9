using Lb.Core.Json;
using Lb.Core.Validation;

namespace Lb.Server.Import;

/// <summary><c>config import haproxy.cfg</c>: the translation on stdout, one line per note on stderr.</summary>
internal static class ImportCommand
{
    public static int Run(string text, string source)
    {
        var result = HaproxyImporter.Import(text);
        foreach (var note in result.Notes)
        {
            Console.Error.WriteLine($"{source}:{note.Line}: {(note.Untranslated ? "not translated" : "note")}: {note.Message}");
        }
        // The translation is built to be valid; should it not be, the operator sees why rather than a failing put.
        var validation = DesiredStateValidator.Validate(result.Config, algorithms: Lb.Balancing.LoadBalancingPolicies.CreateDefault());
        foreach (var error in validation.Errors)
        {
            Console.Error.WriteLine($"{source}: invalid translation: {error.Field}: {error.Message}");
        }
        Console.Out.Write(System.Text.Encoding.UTF8.GetString(DesiredStateJson.Serialize(result.Config, indented: true)));
        Console.Out.WriteLine();
        var untranslated = result.Notes.Count(n => n.Untranslated);
        Console.Error.WriteLine(untranslated == 0 && validation.IsValid
            ? $"{source}: translated ({result.Config.Routes.Count} routes, {result.Config.UpstreamPools.Count} pools)"
            : $"{source}: {untranslated} directive{(untranslated == 1 ? "" : "s")} not translated; the JSON above leaves {(untranslated == 1 ? "it" : "them")} out");
        return untranslated == 0 && validation.IsValid ? Cli.Ok : Cli.Failed;
    }
}

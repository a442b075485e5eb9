using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Lb.TestSupport;

/// <summary>Collects a child process's stdout and stderr and lets a test wait for lines it prints.</summary>
public sealed class ProcessOutput
{
    private readonly StringBuilder _text = new();
    private readonly Process _process;

    public ProcessOutput(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private void Append(string? line)
    {
        lock (_text)
        {
            _text.AppendLine(line);
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }

    /// <summary>
    /// Waits until the output holds <paramref name="count"/> matches of <paramref name="pattern"/> and returns their first
    /// groups; fails if the process exits first or nothing comes within 60 s (a bound for a loaded machine, not a speed check).
    /// </summary>
    public async Task<string[]> WaitForAsync(Regex pattern, int count = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var matches = pattern.Matches(ToString());
            if (matches.Count >= count)
            {
                return [.. matches.Take(count).Select(m => m.Groups[1].Value)];
            }
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"'{pattern}' did not appear {count} time(s) ({(_process.HasExited ? "process exited" : "60 s passed")}): {this}");
            }
            await Task.Delay(50);
        }
    }
}

/// <summary>Sends POSIX signals from the test process itself (no dependency on a <c>kill</c> binary).</summary>
public static partial class Signals
{
    public const int SigInt = 2;
    public const int SigTerm = 15;
    public const int SigKill = 9;
    public const int SigHup = 1;

    public static void Send(Process process, int signal)
    {
        if (Kill(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Signals every process of the process group <paramref name="processGroup"/> (one the test created with setsid).</summary>
    public static void SendToGroup(int processGroup, int signal) => Kill(-processGroup, signal);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

//! Synthetic Dockerfiles of mixed size for the benchmark, each with the exact
//! set of rule codes the default policy must report for it.
//!
//! Every file starts from a compliant runner image (digest-pinned base, useradd
//! with a uid, HEALTHCHECK, numeric USER) padded with 3-150 harmless
//! instructions of the kinds real images have (continued RUN lines, optionally
//! heredoc scripts, COPY, ENV, LABEL, comments, optional build stages); 30% stay
//! compliant, the others get one to three flaws drawn from a table whose
//! entries name the code they must produce.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::Rng;

/// One generated Dockerfile.
#[derive(Debug, Clone)]
pub struct GeneratedDockerfile {
    pub path: PathBuf,
    pub text: String,
    /// The codes the default policy reports for it (each at least once).
    pub expected: BTreeSet<&'static str>,
}

const DIGEST: &str = "sha256:9b2f4e0c6d1a8b3e5f7a9c1d3e5f7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e";
const BASES: &[&str] = &[
    "python:3.12-slim",
    "debian:bookworm-slim",
    "node:22-bookworm-slim",
    "golang:1.23-bookworm",
    "alpine:3.20",
];

/// Harmless instructions for the final stage (nothing a rule reports); the
/// last two kinds use here-documents, only when `heredocs` is set.
fn filler(rng: &mut Rng, heredocs: bool, out: &mut String) {
    match rng.below(if heredocs { 9 } else { 6 }) {
        0 => out.push_str(&format!(
            "COPY src/module_{}.py /opt/runner/lib/\n",
            rng.below(500)
        )),
        1 => out.push_str(&format!(
            "ENV RUNNER_OPT_{}={} PYTHONUNBUFFERED=1\n",
            rng.below(100),
            rng.below(10_000)
        )),
        2 => out.push_str(&format!(
            "LABEL org.opencontainers.image.revision=\"{}\"\n",
            rng.below(1 << 30)
        )),
        3 => out.push_str("# Keep the runner's working directory separate from its code.\nWORKDIR /work\n"),
        4 => out.push_str(
            "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends \\\n        ca-certificates \\\n        curl \\\n    && rm -rf /var/lib/apt/lists/*\n",
        ),
        5 => out.push_str(&format!("EXPOSE {}\n", 8000 + rng.below(1000))),
        6 => out.push_str("RUN pip install --no-cache-dir requests==2.32.3 pydantic==2.9.2\n"),
        7 => out.push_str(
            "RUN <<EOT\nset -eu\nmkdir -p /opt/runner/cache\nchmod 755 /opt/runner/cache\nEOT\n",
        ),
        _ => out.push_str(
            "RUN python3 - <<'PY'\nimport compileall\ncompileall.compile_dir('/opt/runner', quiet=1)\nPY\n",
        ),
    }
}

/// Flaws: the text to add (where), and the code it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    NoUser,
    RootUser,
    NamedUser,
    NoHealthcheck,
    LatestBase,
    TagOnlyBase,
    AddRemote,
    AddLocal,
    SecretEnv,
    Sudo,
    WorldWritable,
    AptRecommends,
    PipCache,
    ChownCode,
}

impl Flaw {
    const ALL: [Flaw; 14] = [
        Flaw::NoUser,
        Flaw::RootUser,
        Flaw::NamedUser,
        Flaw::NoHealthcheck,
        Flaw::LatestBase,
        Flaw::TagOnlyBase,
        Flaw::AddRemote,
        Flaw::AddLocal,
        Flaw::SecretEnv,
        Flaw::Sudo,
        Flaw::WorldWritable,
        Flaw::AptRecommends,
        Flaw::PipCache,
        Flaw::ChownCode,
    ];

    /// The codes this flaw adds.
    fn codes(self) -> &'static [&'static str] {
        match self {
            Flaw::NoUser | Flaw::RootUser => &["SL4001"],
            Flaw::NamedUser => &["SL4002"],
            Flaw::NoHealthcheck => &["SL4003"],
            Flaw::LatestBase => &["SL4004", "SL4005"],
            Flaw::TagOnlyBase => &["SL4005"],
            Flaw::AddRemote => &["SL4006"],
            Flaw::AddLocal => &["SL4007"],
            Flaw::SecretEnv => &["SL4008"],
            Flaw::Sudo => &["SL4009"],
            Flaw::WorldWritable => &["SL4010"],
            Flaw::AptRecommends => &["SL4011"],
            Flaw::PipCache => &["SL4014"],
            Flaw::ChownCode => &["SL4015"],
        }
    }

    /// An instruction added in the middle of the final stage, if the flaw is one.
    fn instruction(self) -> Option<&'static str> {
        Some(match self {
            Flaw::AddRemote => "ADD https://downloads.example.com/tool-1.4.tar.gz /tmp/\n",
            Flaw::AddLocal => "ADD entrypoint.py /opt/runner/entrypoint.py\n",
            Flaw::SecretEnv => "ENV GITHUB_TOKEN=ghp_example\n",
            Flaw::Sudo => {
                "RUN apt-get update && apt-get install -y --no-install-recommends sudo \\\n    && rm -rf /var/lib/apt/lists/*\n"
            }
            Flaw::WorldWritable => "RUN mkdir -p /data && chmod -R 777 /data\n",
            Flaw::AptRecommends => {
                "RUN apt-get update && apt-get install -y git \\\n    && rm -rf /var/lib/apt/lists/*\n"
            }
            Flaw::PipCache => "RUN pip install httpx==0.27.2\n",
            Flaw::ChownCode => "RUN chown -R runner:runner /opt/runner\n",
            _ => return None,
        })
    }
}

/// Generates `count` Dockerfiles; with `heredocs`, some RUN scripts are
/// here-documents (which hadolint 2.x cannot parse, so its comparison runs
/// without them).
pub fn generate(rng: &mut Rng, count: usize, heredocs: bool) -> Vec<GeneratedDockerfile> {
    (0..count)
        .map(|i| {
            let mut flaws: Vec<Flaw> = Vec::new();
            if !rng.percent(30) {
                for _ in 0..rng.range(1, 3) {
                    let f = rng.pick(&Flaw::ALL);
                    if !flaws.contains(&f) {
                        flaws.push(f);
                    }
                }
            }
            // NoUser wins over the other USER flaws; a missing USER hides the rest.
            if flaws.contains(&Flaw::NoUser) {
                flaws.retain(|f| !matches!(f, Flaw::RootUser | Flaw::NamedUser | Flaw::ChownCode));
            }
            if flaws.contains(&Flaw::RootUser) {
                flaws.retain(|f| !matches!(f, Flaw::NamedUser | Flaw::ChownCode));
            }
            let base = rng.pick(BASES);
            let mut text = String::with_capacity(4096);
            text.push_str("# syntax=docker/dockerfile:1.7\n");
            if rng.percent(25) {
                text.push_str(&format!("FROM {base}@{DIGEST} AS build\n"));
                text.push_str("RUN apt-get update && apt-get install -y build-essential\n");
                text.push_str("RUN make -C /src all\n\n");
            }
            let from = if flaws.contains(&Flaw::LatestBase) {
                format!("{}:latest", base.split(':').next().unwrap_or(base))
            } else if flaws.contains(&Flaw::TagOnlyBase) {
                base.to_string()
            } else {
                format!("{base}@{DIGEST}")
            };
            text.push_str(&format!("FROM {from}\n"));
            text.push_str("RUN useradd --create-home --uid 10001 runner\n");
            let size = rng.weighted(&[(3usize, 40), (20, 35), (60, 20), (150, 5)]);
            let mut inserts: Vec<&str> = flaws.iter().filter_map(|f| f.instruction()).collect();
            for n in 0..rng.range(size / 2, size) {
                filler(rng, heredocs, &mut text);
                if n % 7 == 3
                    && let Some(flaw) = inserts.pop()
                {
                    text.push_str(flaw);
                }
            }
            for flaw in inserts {
                text.push_str(flaw);
            }
            if !flaws.contains(&Flaw::NoHealthcheck) {
                text.push_str(
                    "HEALTHCHECK --interval=30s --timeout=3s \\\n  CMD [\"test\", \"-f\", \"/opt/runner/entrypoint.py\"]\n",
                );
            }
            if flaws.contains(&Flaw::RootUser) {
                text.push_str("USER root\n");
            } else if flaws.contains(&Flaw::NamedUser) {
                text.push_str("USER runner\n");
            } else if !flaws.contains(&Flaw::NoUser) {
                text.push_str("USER 10001:10001\n");
            }
            text.push_str("ENTRYPOINT [\"python3\", \"/opt/runner/entrypoint.py\"]\n");
            let expected = flaws.iter().flat_map(|f| f.codes()).copied().collect();
            let name = match i % 4 {
                0 => format!("img-{i:04}/Dockerfile"),
                1 => format!("img-{i:04}.Dockerfile"),
                2 => format!("img-{i:04}/Dockerfile.runner"),
                _ => format!("img-{i:04}/Containerfile"),
            };
            GeneratedDockerfile {
                path: PathBuf::from("dockerfiles").join(name),
                text,
                expected,
            }
        })
        .collect()
}

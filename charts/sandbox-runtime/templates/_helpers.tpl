{{- define "sandbox-runtime.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
A resource quantity (500m, 2, 1.5, 4Gi, 10G) as a number of base units, so
that two quantities can be compared with float64. The schema admits only these
forms; anything else fails rendering.
*/}}
{{- define "sandbox-runtime.quantity" -}}
{{- $q := toString . -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $q -}}
{{- $suffix := trimPrefix $number $q -}}
{{- $scale := dict "" 1 "m" 0.001 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "P" 1000000000000000 "E" 1000000000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "Pi" 1125899906842624 "Ei" 1152921504606846976 -}}
{{- if or (not $number) (not (hasKey $scale $suffix)) -}}
{{- fail (printf "sandbox-runtime: %q is not a resource quantity" $q) -}}
{{- end -}}
{{- mulf (float64 $number) (get $scale $suffix) -}}
{{- end -}}

{{/* Fails rendering when `a` is above `b` (both quantities). Call with (list a b "message"). */}}
{{- define "sandbox-runtime.atMost" -}}
{{- $a := index . 0 -}}
{{- $b := index . 1 -}}
{{- if gt (float64 (include "sandbox-runtime.quantity" $a)) (float64 (include "sandbox-runtime.quantity" $b)) -}}
{{- fail (printf "sandbox-runtime: %s (%v is above %v)" (index . 2) $a $b) -}}
{{- end -}}
{{- end -}}

{{/* The LimitRange against itself and against the policy's maxima. */}}
{{- define "sandbox-runtime.validateLimits" -}}
{{- $lr := .Values.limitRange -}}
{{- range $resource := list "cpu" "memory" "ephemeral-storage" -}}
{{- $max := index $lr.max $resource -}}
{{- include "sandbox-runtime.atMost" (list $max (index $.Values.policyMaxima $resource) (printf "limitRange.max.%s exceeds policyMaxima.%s, the most the policy lets a runner limit it to" $resource $resource)) -}}
{{- with index $lr.default $resource -}}
{{- include "sandbox-runtime.atMost" (list . $max (printf "limitRange.default.%s exceeds limitRange.max.%s" $resource $resource)) -}}
{{- end -}}
{{- with index $lr.defaultRequest $resource -}}
{{- include "sandbox-runtime.atMost" (list . $max (printf "limitRange.defaultRequest.%s exceeds limitRange.max.%s" $resource $resource)) -}}
{{- with index $lr.default $resource -}}
{{- include "sandbox-runtime.atMost" (list (index $lr.defaultRequest $resource) . (printf "limitRange.defaultRequest.%s exceeds limitRange.default.%s" $resource $resource)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The runner labels as a selector string (app=workflow-runner). */}}
{{- define "sandbox-runtime.runnerSelector" -}}
{{- $pairs := list -}}
{{- range $k, $v := .Values.runnerLabels -}}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

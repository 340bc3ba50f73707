{{/* Name of the chart, or nameOverride. */}}
{{- define "sandbox-lint.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of every object of the release. */}}
{{- define "sandbox-lint.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sandbox-lint.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sandbox-lint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sandbox-lint.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sandbox-lint.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The image, pinned by tag (appVersion by default) and optionally by digest. */}}
{{- define "sandbox-lint.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if eq $tag "latest" -}}
{{- fail "sandbox-lint: image.tag must pin a version, not latest" -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The Secret holding the serving certificate (tls.crt, tls.key). Fails rendering
unless exactly one TLS source is configured.
*/}}
{{- define "sandbox-lint.tlsSecretName" -}}
{{- $tls := .Values.tls -}}
{{- if and $tls.certManager.enabled $tls.secretName -}}
{{- fail "sandbox-lint: TLS is configured twice: set tls.certManager.enabled=true or tls.secretName (with tls.caBundle), not both" -}}
{{- else if $tls.certManager.enabled -}}
{{- if $tls.caBundle -}}
{{- fail "sandbox-lint: tls.caBundle is set but cert-manager injects the CA (tls.certManager.enabled=true): remove tls.caBundle, or use tls.secretName instead of cert-manager" -}}
{{- end -}}
{{- printf "%s-tls" (include "sandbox-lint.fullname" .) -}}
{{- else if $tls.secretName -}}
{{- if not $tls.caBundle -}}
{{- fail (printf "sandbox-lint: tls.secretName=%s needs tls.caBundle, the CA certificate (PEM, or base64 of the PEM) that signed the Secret's tls.crt, or the API server cannot verify the webhook" $tls.secretName) -}}
{{- end -}}
{{- $tls.secretName -}}
{{- else -}}
{{- fail "sandbox-lint: no TLS configured for the webhook: set tls.certManager.enabled=true (cert-manager issues the serving certificate and injects its CA), or tls.secretName (a kubernetes.io/tls Secret in the release namespace) with tls.caBundle (the CA that signed it)" -}}
{{- end -}}
{{- end -}}

{{/* tls.caBundle as the webhook configuration wants it: base64 of a PEM certificate. */}}
{{- define "sandbox-lint.caBundle" -}}
{{- $ca := .Values.tls.caBundle | trim -}}
{{- if hasPrefix "-----BEGIN CERTIFICATE-----" $ca -}}
{{- .Values.tls.caBundle | b64enc -}}
{{- else if hasPrefix "-----BEGIN CERTIFICATE-----" (b64dec $ca) -}}
{{- $ca -}}
{{- else -}}
{{- fail "sandbox-lint: tls.caBundle must be a PEM certificate (-----BEGIN CERTIFICATE-----), or the base64 of one" -}}
{{- end -}}
{{- end -}}

{{/* Namespaces never sent to the webhook: kube-system, the release's own, and the configured ones. */}}
{{- define "sandbox-lint.excludedNamespaces" -}}
{{- concat (list "kube-system" .Release.Namespace) .Values.webhook.excludedNamespaces | uniq | toJson -}}
{{- end -}}

{{/* Checks across values that the schema cannot express; fails rendering with the reason. */}}
{{- define "sandbox-lint.validate" -}}
{{- if gt (int .Values.server.requestTimeoutSeconds) (int .Values.webhook.timeoutSeconds) -}}
{{- fail (printf "sandbox-lint: server.requestTimeoutSeconds (%d) exceeds webhook.timeoutSeconds (%d): the API server would give up before the webhook answers" (int .Values.server.requestTimeoutSeconds) (int .Values.webhook.timeoutSeconds)) -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) -}}
{{- fail (printf "sandbox-lint: podDisruptionBudget.minAvailable (%d) must be below replicaCount (%d), or no node could ever be drained; raise replicaCount or set podDisruptionBudget.enabled=false" (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) -}}
{{- end -}}
{{- end -}}

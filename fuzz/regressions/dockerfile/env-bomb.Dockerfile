FROM alpine:3.20@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
ENV E=xxxxxxxxxxxxxxxx
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
ENV E=${E}${E} F=${E}${E}
USER $E
